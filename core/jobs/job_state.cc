#include "core/jobs/job_state.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reftune::jobs {
namespace {

constexpr std::array<std::pair<JobState, absl::string_view>, 9> kStateNames = {{
    {JobState::kQueued, "QUEUED"},
    {JobState::kScreening, "SCREENING"},
    {JobState::kTraining, "TRAINING"},
    {JobState::kEvaluating, "EVALUATING"},
    {JobState::kExporting, "EXPORTING"},
    {JobState::kSucceeded, "SUCCEEDED"},
    {JobState::kFailed, "FAILED"},
    {JobState::kCancelled, "CANCELLED"},
    {JobState::kCancelling, "CANCELLING"},
}};

// The next phase of the normal pipeline, or the same state when `from` has no successor.
JobState NextPhase(JobKind kind, JobState from) {
  switch (from) {
    case JobState::kScreening:
      return JobState::kTraining;
    case JobState::kTraining:
      return JobState::kEvaluating;
    case JobState::kEvaluating:
      return JobState::kExporting;
    case JobState::kExporting:
      return JobState::kSucceeded;
    case JobState::kQueued:
      return FirstRunningState(kind);
    default:
      return from;
  }
}

bool IsLegal(JobKind kind, JobState from, JobState to) {
  if (IsTerminal(from) || from == to) return false;

  if (from == JobState::kQueued) {
    // A queued job is either claimed into its first phase or cancelled before any work started.
    return to == FirstRunningState(kind) || to == JobState::kCancelled;
  }

  if (from == JobState::kCancelling) {
    // A worker that winds down may still hit an error; a lease that expires ends the cancel.
    return to == JobState::kCancelled || to == JobState::kFailed;
  }

  // Running states: the next phase, back to the queue, failure or a cancel request.
  if (kind == JobKind::kTeacher && from == JobState::kScreening) return false;
  return to == NextPhase(kind, from) || to == JobState::kQueued || to == JobState::kFailed ||
         to == JobState::kCancelling;
}

}  // namespace

absl::string_view JobKindName(JobKind kind) {
  return kind == JobKind::kCustomer ? "CUSTOMER" : "TEACHER";
}

absl::string_view JobStateName(JobState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "UNKNOWN";
}

absl::StatusOr<JobKind> ParseJobKind(absl::string_view name) {
  if (name == "CUSTOMER") return JobKind::kCustomer;
  if (name == "TEACHER") return JobKind::kTeacher;
  return absl::InvalidArgumentError(
      absl::StrCat("job kind must be CUSTOMER or TEACHER, got \"", name, "\""));
}

absl::StatusOr<JobState> ParseJobState(absl::string_view name) {
  for (const auto& [value, state_name] : kStateNames) {
    if (state_name == name) return value;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "job state must be one of QUEUED, SCREENING, TRAINING, EVALUATING, EXPORTING, SUCCEEDED, "
      "FAILED, CANCELLED, CANCELLING, got \"",
      name, "\""));
}

bool IsTerminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

bool IsRunning(JobState state) {
  return state == JobState::kScreening || state == JobState::kTraining ||
         state == JobState::kEvaluating || state == JobState::kExporting;
}

JobState FirstRunningState(JobKind kind) {
  return kind == JobKind::kCustomer ? JobState::kScreening : JobState::kTraining;
}

absl::Status CheckTransition(JobKind kind, JobState from, JobState to) {
  if (IsLegal(kind, from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("illegal transition for a ", JobKindName(kind),
                                                    " job from ", JobStateName(from), " to ",
                                                    JobStateName(to)));
}

}  // namespace reftune::jobs
