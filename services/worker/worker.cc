#include "services/worker/worker.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/jobs/job_waiter.h"
#include "glog/logging.h"
#include "services/worker/finetune_pipeline.h"
#include "services/worker/job_config.h"
#include "services/worker/job_failure.h"
#include "services/worker/lease_keeper.h"
#include "services/worker/teacher_pipeline.h"

namespace reftune::worker {
namespace {

// Job durations run from seconds (a failed claim) to a day.
prometheus::Histogram::BucketBoundaries JobDurationBuckets() {
  return {1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600};
}

std::string KindLabel(jobs::JobKind kind) {
  return kind == jobs::JobKind::kTeacher ? "teacher" : "finetune";
}

}  // namespace

absl::string_view JobOutcomeName(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::kSucceeded: return "succeeded";
    case JobOutcome::kFailed: return "failed";
    case JobOutcome::kCancelled: return "cancelled";
    case JobOutcome::kReleased: return "released";
    case JobOutcome::kLeaseLost: return "lease_lost";
  }
  return "failed";
}

Worker::Worker(WorkerServices services, WorkerOptions options, std::string connection_string,
               const std::atomic<bool>* shutdown)
    : services_(services),
      options_(std::move(options)),
      connection_string_(std::move(connection_string)),
      shutdown_(shutdown) {}

absl::Status Worker::Run() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  if (absl::Status registered = services_.queue->RegisterWorker(options_.worker_id, host);
      !registered.ok()) {
    return registered;
  }
  LOG(INFO) << "worker " << options_.worker_id << " registered on host " << host;

  std::unique_ptr<jobs::JobWaiter> waiter;
  while (!shutdown_->load()) {
    if (options_.max_jobs > 0 && jobs_run_ >= options_.max_jobs) break;
    ReapIfDue();

    absl::StatusOr<std::optional<store::JobRecord>> claimed = ClaimNext();
    if (!claimed.ok()) {
      LOG(ERROR) << "worker " << options_.worker_id << " failed to claim a job: "
                 << claimed.status();
      absl::SleepFor(std::min(options_.poll_interval, absl::Seconds(2)));
      continue;
    }
    if (claimed->has_value()) {
      RunClaimedJob(**claimed);
      continue;
    }

    // Idle: wait for a NOTIFY, or the poll interval, then try again.
    if (waiter == nullptr) {
      absl::StatusOr<std::unique_ptr<jobs::JobWaiter>> created =
          jobs::JobWaiter::Create(connection_string_);
      if (created.ok()) {
        waiter = *std::move(created);
      } else {
        LOG(WARNING) << "worker " << options_.worker_id
                     << " cannot LISTEN for new jobs, polling instead: " << created.status();
      }
    }
    // Short waits keep a SIGTERM while idle from waiting a whole poll interval.
    const absl::Duration slice = std::min(options_.poll_interval, absl::Seconds(1));
    const absl::Time until = absl::Now() + options_.poll_interval;
    bool woken = false;
    while (!woken && !shutdown_->load() && absl::Now() < until) {
      if (waiter != nullptr) {
        woken = waiter->WaitForQueuedJob(slice);
      } else {
        absl::SleepFor(slice);
      }
    }
  }
  LOG(INFO) << "worker " << options_.worker_id << " stops after " << jobs_run_ << " jobs";
  return absl::OkStatus();
}

absl::StatusOr<std::optional<store::JobRecord>> Worker::ClaimNext() {
  if (options_.kinds.empty()) return services_.queue->Claim(options_.worker_id);
  // NOTE: with several kinds each is tried in turn, so "oldest first" holds within a kind only.
  for (jobs::JobKind kind : options_.kinds) {
    absl::StatusOr<std::optional<store::JobRecord>> claimed =
        services_.queue->Claim(options_.worker_id, kind);
    if (!claimed.ok() || claimed->has_value()) return claimed;
  }
  return std::optional<store::JobRecord>();
}

void Worker::ReapIfDue() {
  if (absl::Now() < next_reap_) return;
  next_reap_ = absl::Now() + options_.reap_interval;
  absl::StatusOr<int> reaped = services_.queue->ReapExpiredLeases();
  if (!reaped.ok()) {
    LOG(ERROR) << "worker " << options_.worker_id << " failed to reap expired leases: "
               << reaped.status();
  } else if (*reaped > 0) {
    LOG(INFO) << "worker " << options_.worker_id << " requeued or ended " << *reaped
              << " jobs with expired leases";
  }
}

JobOutcome Worker::RunClaimedJob(const store::JobRecord& job) {
  ++jobs_run_;
  const absl::Time started = absl::Now();
  if (services_.metrics != nullptr && job.started_at.has_value()) {
    services_.metrics->queue_wait.Observe(
        std::max(0.0, absl::ToDoubleSeconds(*job.started_at - job.queued_at)));
  }
  LOG(INFO) << "worker " << options_.worker_id << " claimed " << jobs::JobKindName(job.kind)
            << " job " << job.id << " (attempt " << job.attempt << " of " << job.max_attempts
            << ")";

  LeaseKeeper lease(services_.queue, job.id, options_.worker_id, options_.heartbeat_interval,
                    services_.metrics);
  absl::Duration limit = options_.default_wall_time_limit;
  if (const int64_t seconds = WallTimeLimitSeconds(job.config_json); seconds > 0) {
    limit = absl::Seconds(seconds);
  }
  // The limit counts from the job's first start, so a requeued job does not get a fresh one.
  const absl::Time deadline = job.started_at.value_or(started) + limit;
  JobRun run(services_, options_.stages, job, options_.worker_id, &lease, shutdown_, deadline);

  absl::Status status = RunStages(run);
  lease.HeartbeatNow();
  const JobOutcome outcome = Finish(run, status);
  lease.Stop();

  if (services_.metrics != nullptr) {
    services_.metrics->job_duration
        .Add({{"kind", KindLabel(job.kind)}, {"outcome", std::string(JobOutcomeName(outcome))}},
             JobDurationBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - started));
  }
  LOG(INFO) << "job " << job.id << " ended on worker " << options_.worker_id << ": "
            << JobOutcomeName(outcome) << " after "
            << absl::FormatDuration(absl::Trunc(absl::Now() - started, absl::Milliseconds(1)));
  return outcome;
}

absl::Status Worker::RunStages(JobRun& run) {
  if (run.job().kind == jobs::JobKind::kTeacher) return RunTeacherJob(run);
  return RunFinetuneJob(run);
}

JobOutcome Worker::Finish(JobRun& run, const absl::Status& status) {
  const std::string& job_id = run.job().id;
  StopReason stop = run.CheckStop();
  // A deadline that passed after the job finished does not undo its success.
  if (status.ok() && stop == StopReason::kDeadline) stop = StopReason::kNone;

  if (stop == StopReason::kLeaseLost) {
    LOG(WARNING) << "job " << job_id << " lost its lease on worker " << options_.worker_id
                 << "; leaving it to the worker that holds it now";
    return JobOutcome::kLeaseLost;
  }

  if (stop == StopReason::kCancelled || stop == StopReason::kShutdown) {
    absl::StatusOr<store::JobRecord> released =
        services_.queue->Release(job_id, options_.worker_id);
    if (!released.ok()) {
      LOG(ERROR) << "releasing job " << job_id << " failed: " << released.status();
      return JobOutcome::kLeaseLost;
    }
    LOG(INFO) << "job " << job_id << " released as " << jobs::JobStateName(released->state);
    return released->state == jobs::JobState::kCancelled ? JobOutcome::kCancelled
                                                         : JobOutcome::kReleased;
  }

  if (status.ok()) {
    if (absl::Status moved = run.Transition(jobs::JobState::kSucceeded, "all stages finished");
        moved.ok()) {
      return JobOutcome::kSucceeded;
    } else {
      LOG(ERROR) << "job " << job_id << " finished but could not be marked SUCCEEDED: " << moved;
      return Finish(run, moved);
    }
  }

  JobFailure failure = FailureFromStatus(status);
  if (stop == StopReason::kDeadline) {
    failure.code = FailureCode::kDeadlineExceeded;
    failure.reason = absl::StrCat("job ran past its wall-time limit of ",
                                  absl::FormatDuration(run.deadline() - *run.job().started_at),
                                  " in state ", jobs::JobStateName(run.job().state));
  }
  LOG(ERROR) << "job " << job_id << " failed with " << FailureCodeName(failure.code) << ": "
             << failure.reason;
  store::WorkerTransition transition;
  transition.to = jobs::JobState::kFailed;
  transition.reason = failure.reason;
  transition.failure_code = std::string(FailureCodeName(failure.code));
  transition.failure_reason = failure.reason;
  absl::StatusOr<store::JobRecord> failed =
      services_.jobs->TransitionAsWorker(job_id, options_.worker_id, transition);
  if (!failed.ok()) {
    LOG(ERROR) << "marking job " << job_id << " FAILED did not work: " << failed.status();
    absl::StatusOr<store::JobRecord> released =
        services_.queue->Release(job_id, options_.worker_id);
    if (!released.ok()) return JobOutcome::kLeaseLost;
  }
  return JobOutcome::kFailed;
}

}  // namespace reftune::worker
