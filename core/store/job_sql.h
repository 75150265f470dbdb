// Statements on the jobs and job_events tables shared by JobStore and the queue. Each function
// runs inside the caller's transaction and may throw pqxx exceptions, which the caller's
// Database::Transact turns into a Status.
#ifndef REFTUNE_CORE_STORE_JOB_SQL_H_
#define REFTUNE_CORE_STORE_JOB_SQL_H_

#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "core/jobs/job_state.h"
#include "core/store/job_record.h"

namespace reftune::store {

// Select list matching JobRecordFromRow, for a FROM clause on `jobs`.
const std::string& JobColumns();
JobRecord JobRecordFromRow(const pqxx::row& row);

// Locks the job row FOR UPDATE and returns it; NOT_FOUND naming the id when it does not exist or,
// with `tenant_id` set, belongs to another tenant.
absl::StatusOr<JobRecord> LockJob(pqxx::work& txn, const std::string& job_id,
                                  const std::optional<std::string>& tenant_id = std::nullopt);

// OK when `worker_id` holds the job's lease, else FAILED_PRECONDITION naming the holder.
absl::Status CheckLeaseHolder(const JobRecord& job, const std::string& worker_id);

// A state change to apply to a locked job.
struct StateChange {
  jobs::JobState to = jobs::JobState::kQueued;
  // Sentence for the event payload, e.g. "claimed by worker w1".
  std::string reason;
  // Grants the lease to this worker for lease_seconds from now (database clock). Unset keeps the
  // current lease. Moving to QUEUED or a terminal state always clears the lease.
  std::optional<std::string> grant_lease_to;
  double lease_seconds = 0;
  // Added to the attempt count: +1 on claim, -1 when a worker gives a job back unstarted.
  int attempt_delta = 0;
  // Required when `to` is FAILED.
  std::optional<std::string> failure_code;
  std::optional<std::string> failure_reason;
};

// Checks the move with jobs::CheckTransition, updates the row, appends a STATE_CHANGED event and
// NOTIFYs the events channel (and the queued channel when the job becomes QUEUED). Returns the
// updated job; FAILED_PRECONDITION for an illegal move, INVALID_ARGUMENT for FAILED without a code.
absl::StatusOr<JobRecord> ApplyStateChange(pqxx::work& txn, const JobRecord& job,
                                           const StateChange& change);

// Appends an event of any type with the next sequence number and NOTIFYs the events channel.
// `payload_json` must be a JSON object. Returns the sequence number.
int64_t AppendJobEvent(pqxx::work& txn, const std::string& job_id, const std::string& type,
                       const std::string& payload_json);

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_JOB_SQL_H_
