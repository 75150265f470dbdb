// Job kinds, job states and the one function that decides which state changes are legal.
#ifndef REFTUNE_CORE_JOBS_JOB_STATE_H_
#define REFTUNE_CORE_JOBS_JOB_STATE_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reftune::jobs {

// CUSTOMER jobs finetune a customer adapter; TEACHER jobs train a safety teacher (operators only).
enum class JobKind { kCustomer, kTeacher };

// Lifecycle of a job. A customer job runs QUEUED -> SCREENING -> TRAINING -> EVALUATING ->
// EXPORTING -> SUCCEEDED; a teacher job skips SCREENING. Any running state may fall back to QUEUED
// (lease expired or released), fail, or move to CANCELLING, which ends in CANCELLED.
enum class JobState {
  kQueued,
  kScreening,
  kTraining,
  kEvaluating,
  kExporting,
  kSucceeded,
  kFailed,
  kCancelled,
  kCancelling,
};

// Upper-case names as stored in PostgreSQL and shown to clients: "CUSTOMER", "QUEUED", ...
absl::string_view JobKindName(JobKind kind);
absl::string_view JobStateName(JobState state);
absl::StatusOr<JobKind> ParseJobKind(absl::string_view name);
absl::StatusOr<JobState> ParseJobState(absl::string_view name);

// SUCCEEDED, FAILED and CANCELLED: no transition leaves them.
bool IsTerminal(JobState state);

// SCREENING, TRAINING, EVALUATING and EXPORTING: a worker holds a lease on the job.
bool IsRunning(JobState state);

// The state a claimed job starts in: SCREENING for customer jobs, TRAINING for teacher jobs.
JobState FirstRunningState(JobKind kind);

// Returns OK when a job of `kind` may move from `from` to `to`, else FAILED_PRECONDITION naming
// both states. Every state change in the store goes through this function.
absl::Status CheckTransition(JobKind kind, JobState from, JobState to);

}  // namespace reftune::jobs

#endif  // REFTUNE_CORE_JOBS_JOB_STATE_H_
