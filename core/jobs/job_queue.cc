#include "core/jobs/job_queue.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/store/job_sql.h"
#include "core/store/sql_values.h"
#include "glog/logging.h"

namespace reftune::jobs {
namespace {

using store::JobRecord;
using store::StateChange;

// What the reaper does with one job whose lease expired.
StateChange ExpiredLeaseChange(const JobRecord& job) {
  StateChange change;
  const std::string owner = job.lease_owner.value_or("unknown");
  if (job.state == JobState::kCancelling) {
    change.to = JobState::kCancelled;
    change.reason = absl::StrCat("lease of worker ", owner, " expired while cancelling");
  } else if (job.attempt >= job.max_attempts) {
    change.to = JobState::kFailed;
    change.failure_code = kLeaseExpiredFailure;
    change.failure_reason =
        absl::StrCat("lease of worker ", owner, " expired on attempt ", job.attempt, " of ",
                     job.max_attempts, "; no attempts left");
    change.reason = *change.failure_reason;
  } else {
    change.to = JobState::kQueued;
    change.reason = absl::StrCat("lease of worker ", owner, " expired on attempt ", job.attempt,
                                 " of ", job.max_attempts, "; requeued");
  }
  return change;
}

}  // namespace

JobQueue::JobQueue(store::Database* database, JobQueueOptions options)
    : database_(database), options_(std::move(options)) {}

absl::StatusOr<std::optional<JobRecord>> JobQueue::Claim(const std::string& worker_id,
                                                         std::optional<JobKind> kind) {
  std::optional<std::string> kind_name;
  if (kind.has_value()) kind_name = std::string(JobKindName(*kind));
  const double lease_seconds = absl::ToDoubleSeconds(options_.lease_duration);

  return database_->TransactFor<std::optional<JobRecord>>(
      absl::StrCat("claim a job for worker ", worker_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::optional<JobRecord>> {
        // SKIP LOCKED: rows another claimer has locked are passed over instead of waited for.
        pqxx::result rows = txn.exec_params(
            "SELECT " + store::JobColumns() +
                " FROM jobs WHERE state = 'QUEUED' AND ($1::text IS NULL OR kind = $1::text) "
                "ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
            store::NullableParam(kind_name));
        if (rows.empty()) return std::optional<JobRecord>();

        JobRecord job = store::JobRecordFromRow(rows[0]);
        StateChange change;
        change.to = FirstRunningState(job.kind);
        change.grant_lease_to = worker_id;
        change.lease_seconds = lease_seconds;
        change.attempt_delta = 1;
        change.reason = absl::StrCat("claimed by worker ", worker_id, " (attempt ",
                                     job.attempt + 1, " of ", job.max_attempts, ")");
        absl::StatusOr<JobRecord> claimed = store::ApplyStateChange(txn, job, change);
        if (!claimed.ok()) return claimed.status();
        return std::optional<JobRecord>(std::move(*claimed));
      });
}

absl::StatusOr<LeaseStatus> JobQueue::Heartbeat(const std::string& job_id,
                                                const std::string& worker_id) {
  const double lease_seconds = absl::ToDoubleSeconds(options_.lease_duration);
  return database_->TransactFor<LeaseStatus>(
      absl::StrCat("heartbeat job ", job_id, " for worker ", worker_id),
      [&](pqxx::work& txn) -> absl::StatusOr<LeaseStatus> {
        pqxx::result renewed = txn.exec_params(
            "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8) "
            "WHERE id = $1 AND lease_owner = $2 RETURNING state, cancel_requested, " +
                store::MicrosColumn("lease_expires_at"),
            job_id, worker_id, lease_seconds);
        if (renewed.empty()) {
          // Read the job to say why: gone, requeued, or held by someone else.
          absl::StatusOr<JobRecord> job = store::LockJob(txn, job_id);
          if (!job.ok()) return job.status();
          absl::Status held = store::CheckLeaseHolder(*job, worker_id);
          if (held.ok()) return absl::InternalError("lease renewal matched no row");
          return held;
        }
        txn.exec_params("UPDATE workers SET last_heartbeat_at = now() WHERE id = $1", worker_id);

        LeaseStatus status;
        absl::StatusOr<JobState> state = ParseJobState(renewed[0][0].as<std::string>());
        if (!state.ok()) return state.status();
        status.state = *state;
        status.cancel_requested = renewed[0][1].as<bool>();
        status.lease_expires_at = store::TimeField(renewed[0][2]);
        return status;
      });
}

absl::StatusOr<JobRecord> JobQueue::Release(const std::string& job_id,
                                            const std::string& worker_id) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("release job ", job_id, " from worker ", worker_id),
      [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        absl::StatusOr<JobRecord> job = store::LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (absl::Status held = store::CheckLeaseHolder(*job, worker_id); !held.ok()) return held;

        StateChange change;
        if (job->state == JobState::kCancelling) {
          change.to = JobState::kCancelled;
          change.reason = absl::StrCat("worker ", worker_id, " stopped while cancelling");
        } else {
          change.to = JobState::kQueued;
          change.attempt_delta = -1;
          change.reason = absl::StrCat("released by worker ", worker_id,
                                       " on shutdown; the attempt is not counted");
        }
        return store::ApplyStateChange(txn, *job, change);
      });
}

absl::StatusOr<int> JobQueue::ReapExpiredLeases() {
  return database_->TransactFor<int>(
      "reap expired job leases", [&](pqxx::work& txn) -> absl::StatusOr<int> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + store::JobColumns() +
                " FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at < now() "
                "ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            options_.reap_batch_size);
        int handled = 0;
        for (const pqxx::row& row : rows) {
          JobRecord job = store::JobRecordFromRow(row);
          StateChange change = ExpiredLeaseChange(job);
          absl::StatusOr<JobRecord> moved = store::ApplyStateChange(txn, job, change);
          if (!moved.ok()) return moved.status();
          LOG(INFO) << "job " << job.id << ": " << change.reason;
          ++handled;
        }
        return handled;
      });
}

absl::Status JobQueue::RegisterWorker(const std::string& worker_id, const std::string& host) {
  if (worker_id.empty()) return absl::InvalidArgumentError("worker id is empty");
  return database_->Transact(
      absl::StrCat("register worker ", worker_id), [&](pqxx::work& txn) -> absl::Status {
        txn.exec_params(
            "INSERT INTO workers (id, host) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE "
            "SET host = EXCLUDED.host, started_at = now(), last_heartbeat_at = now()",
            worker_id, host);
        return absl::OkStatus();
      });
}

}  // namespace reftune::jobs
