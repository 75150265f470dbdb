// Typed reasons for failed jobs. Worker code attaches a FailureCode to a Status; the worker maps
// any Status to the (code, reason) pair stored on the FAILED job.
#ifndef REFTUNE_SERVICES_WORKER_JOB_FAILURE_H_
#define REFTUNE_SERVICES_WORKER_JOB_FAILURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reftune::worker {

// Stored failure codes; the names match reftune.v1.FailureCode without its prefix.
enum class FailureCode {
  // The dataset has records the job cannot use, or cannot be read as records.
  kInvalidData,
  // The loss became NaN or infinite, or diverged.
  kNumericDivergence,
  // The base model, the teacher or a dataset file is missing or unreadable.
  kMissingModel,
  // The job ran past its wall-time limit.
  kDeadlineExceeded,
  kInternal,
};

// "INVALID_DATA", "NUMERIC_DIVERGENCE", ...
absl::string_view FailureCodeName(FailureCode code);

// Returns `status` with `code` attached, so that FailureFromStatus reports it.
absl::Status WithFailureCode(absl::Status status, FailureCode code);

// Shorthands for the two codes worker stages raise most.
absl::Status InvalidDataError(absl::string_view message);
absl::Status MissingModelError(absl::string_view message);

struct JobFailure {
  FailureCode code = FailureCode::kInternal;
  // Sentence for people: the status message.
  std::string reason;
};

// The attached code wins; then a training failure payload (NaN, divergence) is
// NUMERIC_DIVERGENCE and DEADLINE_EXCEEDED is the wall-time limit; anything else is INTERNAL.
JobFailure FailureFromStatus(const absl::Status& status);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_JOB_FAILURE_H_
