// The last step of every gateway handler: convert the absl::Status to a grpc::Status and log it.
#ifndef REFTUNE_SERVICES_GATEWAY_HANDLER_SUPPORT_H_
#define REFTUNE_SERVICES_GATEWAY_HANDLER_SUPPORT_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace reftune::gateway {

// Runs `body` and converts its status with services::ToGrpcStatus. Client errors are logged at
// VLOG(1), server-side failures (INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE) at ERROR, rate-limited.
// Call counts and latencies are recorded by the server's metrics interceptor.
grpc::Status RunHandler(absl::string_view method, const std::function<absl::Status()>& body);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_HANDLER_SUPPORT_H_
