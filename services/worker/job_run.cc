#include "services/worker/job_run.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace reftune::worker {

absl::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "none";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kLeaseLost: return "lease lost";
    case StopReason::kShutdown: return "worker shutdown";
    case StopReason::kDeadline: return "wall-time limit";
  }
  return "none";
}

StopReason JobRun::CheckStop() const {
  if (lease_ != nullptr && lease_->lease_lost()) return StopReason::kLeaseLost;
  if (lease_ != nullptr && lease_->cancel_requested()) return StopReason::kCancelled;
  if (shutdown_ != nullptr && shutdown_->load()) return StopReason::kShutdown;
  if (absl::Now() > deadline_) return StopReason::kDeadline;
  return StopReason::kNone;
}

absl::Status JobRun::StopStatus(StopReason reason, const std::string& where) const {
  return absl::CancelledError(
      absl::StrCat("job ", job_.id, " stopped ", where, ": ", StopReasonName(reason)));
}

absl::Status JobRun::Transition(jobs::JobState to, const std::string& reason) {
  store::WorkerTransition transition;
  transition.to = to;
  transition.reason = reason;
  absl::StatusOr<store::JobRecord> moved =
      services_.jobs->TransitionAsWorker(job_.id, worker_id_, transition);
  if (!moved.ok()) return moved.status();
  job_ = *std::move(moved);
  return absl::OkStatus();
}

absl::Status JobRun::AppendEvent(const std::string& type, const nlohmann::json& payload) {
  return services_.worker_jobs->AppendEvent(job_.id, worker_id_, type, payload.dump()).status();
}

absl::Status JobRun::AppendMessage(const std::string& text, nlohmann::json extra) {
  extra["message"] = text;
  return AppendEvent(kMessageEvent, extra);
}

absl::Status JobRun::RecordProgress(double progress, const nlohmann::json& payload) {
  return services_.jobs->RecordProgress(job_.id, worker_id_, std::clamp(progress, 0.0, 1.0),
                                        payload.dump());
}

absl::StatusOr<std::string> JobRun::JobFolder() const {
  return services_.artifacts->JobFolder(job_.id);
}

}  // namespace reftune::worker
