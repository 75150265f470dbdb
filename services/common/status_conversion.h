// Conversion between absl::Status inside reftune and grpc::Status at the gRPC edge, keeping the
// google.rpc error details that clients act on.
#ifndef REFTUNE_SERVICES_COMMON_STATUS_CONVERSION_H_
#define REFTUNE_SERVICES_COMMON_STATUS_CONVERSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace reftune::services {

// One google.rpc.BadRequest field violation.
struct FieldViolation {
  std::string field;
  std::string description;
};

// Type URL under which a serialised google.rpc.BadRequest travels as an absl::Status payload.
inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";

// Returns `status` with a google.rpc.BadRequest payload listing `violations`.
absl::Status WithBadRequest(absl::Status status, const std::vector<FieldViolation>& violations);

// Returns INVALID_ARGUMENT for `problem_count` problems (at least violations.size()). The message
// is `summary` followed by the first violations, one per line, up to 1 KiB. A BadRequest payload
// lists the violations up to 3 KiB, then a last violation with field "(more)" counting the rest.
// gRPC clients reject response metadata over 8 KiB by default, and both parts travel in it.
absl::Status InvalidArgumentWithViolations(const std::string& summary,
                                           const std::vector<FieldViolation>& violations,
                                           int64_t problem_count);

// Converts an absl::Status to a grpc::Status with the same code and message. Payloads stored under
// type.googleapis.com URLs become google.protobuf.Any details of a serialised google.rpc.Status.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a grpc::Status back, restoring its details as payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Returns the BadRequest violations carried by `status`, in order; empty when there are none.
std::vector<FieldViolation> BadRequestViolations(const absl::Status& status);

}  // namespace reftune::services

#endif  // REFTUNE_SERVICES_COMMON_STATUS_CONVERSION_H_
