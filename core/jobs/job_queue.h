// The shared job queue: workers claim QUEUED jobs under a lease, renew it by heartbeat and give
// it back on shutdown; a reaper requeues or fails jobs whose lease expired.
#ifndef REFTUNE_CORE_JOBS_JOB_QUEUE_H_
#define REFTUNE_CORE_JOBS_JOB_QUEUE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/jobs/job_state.h"
#include "core/store/database.h"
#include "core/store/job_record.h"

namespace reftune::jobs {

struct JobQueueOptions {
  // How long a claim or heartbeat keeps a job leased, measured on the database clock. Workers
  // heartbeat several times per lease (e.g. every lease_duration / 3).
  absl::Duration lease_duration = absl::Seconds(30);
  // Jobs the reaper handles per call; a backlog larger than this takes several calls.
  int reap_batch_size = 100;
};

// Result of a heartbeat.
struct LeaseStatus {
  JobState state = JobState::kQueued;
  // True once a cancel was requested: the worker stops and moves the job to CANCELLED.
  bool cancel_requested = false;
  absl::Time lease_expires_at;
};

// Failure code stored when a job's lease expires on its last attempt.
inline constexpr char kLeaseExpiredFailure[] = "LEASE_EXPIRED";

// Thread-safe; `database` must outlive the queue. Every method is one transaction.
class JobQueue {
 public:
  JobQueue(store::Database* database, JobQueueOptions options);

  // Claims the QUEUED job with the oldest queued_at (of `kind`, when set) with SELECT ... FOR
  // UPDATE SKIP LOCKED, so concurrent claimers never get the same job and never wait on each
  // other. The job moves to its first running state (SCREENING, or TRAINING for teachers), its
  // attempt count grows by 1 and `worker_id` gets the lease. Returns nullopt when nothing is queued.
  absl::StatusOr<std::optional<store::JobRecord>> Claim(const std::string& worker_id,
                                                        std::optional<JobKind> kind = std::nullopt);

  // Renews the lease for lease_duration from now and records the worker's heartbeat.
  // FAILED_PRECONDITION when `worker_id` no longer holds the lease (it expired and the job was
  // requeued, or another worker claimed it): the worker must stop work on the job.
  absl::StatusOr<LeaseStatus> Heartbeat(const std::string& job_id, const std::string& worker_id);

  // Gives a leased job back, e.g. on SIGTERM: a running job returns to QUEUED and the attempt
  // it used is not counted, because the worker stopped on purpose and the next claim resumes
  // from the last checkpoint. A CANCELLING job becomes CANCELLED. FAILED_PRECONDITION when
  // `worker_id` does not hold the lease.
  absl::StatusOr<store::JobRecord> Release(const std::string& job_id, const std::string& worker_id);

  // Handles up to reap_batch_size jobs whose lease expired: a running job returns to QUEUED, or
  // becomes FAILED with code LEASE_EXPIRED when it used max_attempts; a CANCELLING job becomes
  // CANCELLED. Safe to run from every worker at once. Returns the number of jobs handled.
  absl::StatusOr<int> ReapExpiredLeases();

  // Records a worker process in the workers table (insert or refresh).
  absl::Status RegisterWorker(const std::string& worker_id, const std::string& host);

  const JobQueueOptions& options() const { return options_; }

 private:
  store::Database* database_;
  const JobQueueOptions options_;
};

}  // namespace reftune::jobs

#endif  // REFTUNE_CORE_JOBS_JOB_QUEUE_H_
