#include "services/gateway/handler_support.h"

#include "glog/logging.h"
#include "services/common/status_conversion.h"

namespace reftune::gateway {

grpc::Status RunHandler(absl::string_view method, const std::function<absl::Status()>& body) {
  const absl::Status status = body();
  if (!status.ok()) {
    switch (status.code()) {
      case absl::StatusCode::kInternal:
      case absl::StatusCode::kUnknown:
      case absl::StatusCode::kDataLoss:
      case absl::StatusCode::kUnavailable:
        LOG_EVERY_N(ERROR, 10) << method << " failed: " << status;
        break;
      default:
        VLOG(1) << method << " returned " << status;
    }
  }
  return services::ToGrpcStatus(status);
}

}  // namespace reftune::gateway
