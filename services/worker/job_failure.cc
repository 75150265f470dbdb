#include "services/worker/job_failure.h"

#include <optional>

#include "absl/strings/cord.h"
#include "core/method/training_progress.h"

namespace reftune::worker {
namespace {

constexpr char kFailureCodePayload[] = "type.reftune.dev/JobFailureCode";

std::optional<FailureCode> ParseFailureCode(absl::string_view name) {
  for (FailureCode code : {FailureCode::kInvalidData, FailureCode::kNumericDivergence,
                           FailureCode::kMissingModel, FailureCode::kDeadlineExceeded,
                           FailureCode::kInternal}) {
    if (FailureCodeName(code) == name) return code;
  }
  return std::nullopt;
}

}  // namespace

absl::string_view FailureCodeName(FailureCode code) {
  switch (code) {
    case FailureCode::kInvalidData: return "INVALID_DATA";
    case FailureCode::kNumericDivergence: return "NUMERIC_DIVERGENCE";
    case FailureCode::kMissingModel: return "MISSING_MODEL";
    case FailureCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case FailureCode::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

absl::Status WithFailureCode(absl::Status status, FailureCode code) {
  status.SetPayload(kFailureCodePayload, absl::Cord(FailureCodeName(code)));
  return status;
}

absl::Status InvalidDataError(absl::string_view message) {
  return WithFailureCode(absl::InvalidArgumentError(message), FailureCode::kInvalidData);
}

absl::Status MissingModelError(absl::string_view message) {
  return WithFailureCode(absl::FailedPreconditionError(message), FailureCode::kMissingModel);
}

JobFailure FailureFromStatus(const absl::Status& status) {
  JobFailure failure;
  failure.reason = std::string(status.message());

  if (absl::optional<absl::Cord> payload = status.GetPayload(kFailureCodePayload)) {
    if (std::optional<FailureCode> code = ParseFailureCode(std::string(*payload))) {
      failure.code = *code;
      return failure;
    }
  }
  if (method::GetTrainingFailure(status) != method::TrainingFailure::kNone) {
    failure.code = FailureCode::kNumericDivergence;
  } else if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    failure.code = FailureCode::kDeadlineExceeded;
  } else {
    failure.code = FailureCode::kInternal;
  }
  return failure;
}

}  // namespace reftune::worker
