#include "services/common/status_conversion.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace reftune::services {

absl::Status WithBadRequest(absl::Status status, const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& violation : violations) {
    auto* added = bad_request.add_field_violations();
    added->set_field(violation.field);
    added->set_description(violation.description);
  }
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status InvalidArgumentWithViolations(const std::string& summary,
                                           const std::vector<FieldViolation>& violations,
                                           int64_t problem_count) {
  constexpr size_t kDetailBudgetBytes = 3072;
  constexpr size_t kMessageBudgetBytes = 1024;
  constexpr size_t kMaxDescriptionBytes = 300;

  std::vector<FieldViolation> listed;
  std::string message = summary;
  size_t detail_bytes = 0;
  for (const FieldViolation& violation : violations) {
    FieldViolation cut{violation.field, violation.description.substr(0, kMaxDescriptionBytes)};
    detail_bytes += cut.field.size() + cut.description.size() + 8;
    if (detail_bytes > kDetailBudgetBytes) break;
    const std::string line = absl::StrCat("\n", cut.field, ": ", cut.description);
    if (message.size() + line.size() <= summary.size() + kMessageBudgetBytes) {
      absl::StrAppend(&message, line);
    }
    listed.push_back(std::move(cut));
  }
  const int64_t not_listed =
      std::max<int64_t>(problem_count, static_cast<int64_t>(violations.size())) -
      static_cast<int64_t>(listed.size());
  if (not_listed > 0) {
    listed.push_back({"(more)", absl::StrCat(not_listed, " more problems not shown")});
  }
  return WithBadRequest(absl::InvalidArgumentError(message), listed);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;

  // absl and gRPC share the canonical code numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  status.ForEachPayload([&details](absl::string_view type_url, const absl::Cord& payload) {
    if (!absl::StartsWith(type_url, "type.googleapis.com/")) return;
    auto* any = details.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (details.details_size() == 0) return grpc::Status(code, message);

  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();

  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      result.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return result;
}

std::vector<FieldViolation> BadRequestViolations(const absl::Status& status) {
  std::vector<FieldViolation> violations;
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() || !bad_request.ParseFromString(std::string(*payload))) {
    return violations;
  }
  for (const auto& violation : bad_request.field_violations()) {
    violations.push_back({violation.field(), violation.description()});
  }
  return violations;
}

}  // namespace reftune::services
