// Customer-facing job operations: idempotent creation, reads, paged listings, cancellation, and
// the state changes and progress reports of the worker that holds a job's lease.
#ifndef REFTUNE_CORE_STORE_JOB_STORE_H_
#define REFTUNE_CORE_STORE_JOB_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/jobs/job_state.h"
#include "core/store/database.h"
#include "core/store/job_record.h"
#include "core/store/paging.h"

namespace reftune::store {

struct NewJob {
  jobs::JobKind kind = jobs::JobKind::kCustomer;
  // Job configuration as a JSON object; stored byte for byte.
  std::string config_json;
  // Client-chosen idempotency key, unique per tenant; required.
  std::string request_id;
  // Claims allowed before a job whose leases keep expiring is FAILED; at least 1.
  int max_attempts = 3;
  // Teacher a customer job uses, when known at creation.
  std::optional<std::string> teacher_id;
};

struct CreateJobResult {
  JobRecord job;
  // False when the request replayed an earlier one and `job` is the job it created.
  bool created = false;
};

// A state change reported by the worker that holds the job's lease.
struct WorkerTransition {
  jobs::JobState to = jobs::JobState::kQueued;
  std::string reason;
  // Required when `to` is FAILED, e.g. "DATASET_INVALID" and a sentence for people.
  std::optional<std::string> failure_code;
  std::optional<std::string> failure_reason;
};

// Thread-safe; `database` must outlive the store. Methods that take a tenant id return NOT_FOUND
// for another tenant's job, never PERMISSION_DENIED, so job ids reveal nothing across tenants.
class JobStore {
 public:
  explicit JobStore(Database* database) : database_(database) {}

  // Inserts a QUEUED job, writes its first event and NOTIFYs idle workers. A replay of the same
  // (tenant, request_id) with the same kind and canonical config returns the original job with
  // created = false; a different request under that request_id is ALREADY_EXISTS. INVALID_ARGUMENT
  // for an empty request_id, a config that is not a JSON object or max_attempts < 1;
  // RESOURCE_EXHAUSTED when the tenant already has max_concurrent_jobs unfinished jobs.
  absl::StatusOr<CreateJobResult> CreateJob(const std::string& tenant_id, const NewJob& job);

  absl::StatusOr<JobRecord> GetJob(const std::string& tenant_id, const std::string& job_id);

  // Reads any tenant's job, for workers and operators.
  absl::StatusOr<JobRecord> GetJobForWorker(const std::string& job_id);

  // The tenant's jobs, newest first; only those in `state` when it is set.
  absl::StatusOr<Page<JobRecord>> ListJobs(const std::string& tenant_id, const PageRequest& page,
                                           std::optional<jobs::JobState> state = std::nullopt);

  // The job's events in sequence order, oldest first.
  absl::StatusOr<Page<JobEvent>> ListJobEvents(const std::string& tenant_id,
                                               const std::string& job_id, const PageRequest& page);

  // QUEUED -> CANCELLED at once; a running job -> CANCELLING with cancel_requested set, and its
  // worker finishes the cancel. Cancelling a CANCELLING job returns it unchanged.
  // FAILED_PRECONDITION for SUCCEEDED, FAILED and CANCELLED jobs.
  absl::StatusOr<JobRecord> CancelJob(const std::string& tenant_id, const std::string& job_id);

  // Moves a job whose lease `worker_id` holds. FAILED_PRECONDITION when the lease is held by
  // another worker or none, or when the move is illegal.
  absl::StatusOr<JobRecord> TransitionAsWorker(const std::string& job_id,
                                               const std::string& worker_id,
                                               const WorkerTransition& transition);

  // Stores `progress` (in [0, 1]) and appends a PROGRESS event with `payload_json` (a JSON object,
  // e.g. step and loss) for a job whose lease `worker_id` holds.
  absl::Status RecordProgress(const std::string& job_id, const std::string& worker_id,
                              double progress, const std::string& payload_json);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_JOB_STORE_H_
