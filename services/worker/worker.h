// The worker process's main loop: claim the oldest runnable job (or wait for one), run it under a
// heartbeat-renewed lease, record its outcome, and requeue expired leases of dead workers.
#ifndef REFTUNE_SERVICES_WORKER_WORKER_H_
#define REFTUNE_SERVICES_WORKER_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/jobs/job_state.h"
#include "core/store/job_record.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

struct WorkerOptions {
  // Lease owner name; must be unique among running workers. Default "<host>-<pid>".
  std::string worker_id;
  // Heartbeat period; several heartbeats should fit in one lease (the lease length is the
  // JobQueue's). Default 5 seconds.
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // Longest idle wait for a NOTIFY before trying to claim again. Default 10 seconds.
  absl::Duration poll_interval = absl::Seconds(10);
  // Period of the expired-lease reaper. Default 30 seconds.
  absl::Duration reap_interval = absl::Seconds(30);
  // Wall-time limit of jobs whose config sets none. Default 24 hours.
  absl::Duration default_wall_time_limit = absl::Hours(24);
  // Exit Run after this many jobs (any outcome); 0 runs until shutdown.
  int64_t max_jobs = 0;
  // Job kinds this worker claims; empty claims both.
  std::vector<jobs::JobKind> kinds;
  StageOptions stages;
};

// Outcome of a job that Run ran, for logs and tests.
enum class JobOutcome { kSucceeded, kFailed, kCancelled, kReleased, kLeaseLost };

// Not thread-safe: Run and RunClaimedJob belong to one thread. `shutdown` may be set from a signal
// handler; the worker then stops the job at its next step boundary, checkpoints, releases the
// lease and returns from Run.
class Worker {
 public:
  // `services` pointers must outlive the worker. `connection_string` opens the LISTEN connection.
  Worker(WorkerServices services, WorkerOptions options, std::string connection_string,
         const std::atomic<bool>* shutdown);

  // Registers the worker and loops until shutdown or max_jobs. Errors of one job never end the
  // loop; only a failure to register does.
  absl::Status Run();

  // Runs one claimed job to its outcome and records it in the store.
  JobOutcome RunClaimedJob(const store::JobRecord& job);

  int64_t jobs_run() const { return jobs_run_; }

 private:
  // Claims one job of any configured kind, oldest first; nullopt when none is queued.
  absl::StatusOr<std::optional<store::JobRecord>> ClaimNext();
  void ReapIfDue();

  // Runs the stages of the job's kind up to EXPORTING.
  absl::Status RunStages(JobRun& run);
  JobOutcome Finish(JobRun& run, const absl::Status& status);

  WorkerServices services_;
  WorkerOptions options_;
  std::string connection_string_;
  const std::atomic<bool>* shutdown_;
  absl::Time next_reap_ = absl::InfinitePast();
  int64_t jobs_run_ = 0;
};

absl::string_view JobOutcomeName(JobOutcome outcome);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_WORKER_H_
