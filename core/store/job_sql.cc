#include "core/store/job_sql.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "core/store/migrations.h"
#include "core/store/sql_values.h"
#include "nlohmann/json.hpp"

namespace reftune::store {
namespace {

void InsertEvent(pqxx::work& txn, const std::string& job_id, int64_t sequence,
                 const std::string& type, const std::string& payload_json) {
  txn.exec_params(
      "INSERT INTO job_events (job_id, sequence, type, payload) VALUES ($1, $2, $3, $4::jsonb)",
      job_id, sequence, type, payload_json);
  txn.exec_params("SELECT pg_notify($1, $2)", std::string(kJobEventsChannel), job_id);
}

template <typename T>
T ParseStoredEnum(absl::StatusOr<T> parsed, const std::string& job_id) {
  // The table's CHECK constraints admit only known names, so this fails only on schema drift.
  if (!parsed.ok()) {
    throw std::runtime_error(absl::StrCat("job ", job_id, ": ", parsed.status().message()));
  }
  return *parsed;
}

}  // namespace

const std::string& JobColumns() {
  static const std::string columns = absl::StrCat(
      "id, tenant_id, kind, state, config, request_id, attempt, max_attempts, lease_owner, ",
      MicrosColumn("lease_expires_at"), ", cancel_requested, failure_code, failure_reason, ",
      "progress, teacher_id, last_event_sequence, ", MicrosColumn("created_at"), ", ",
      MicrosColumn("updated_at"), ", ", MicrosColumn("queued_at"), ", ",
      MicrosColumn("started_at"), ", ", MicrosColumn("finished_at"));
  return columns;
}

JobRecord JobRecordFromRow(const pqxx::row& row) {
  JobRecord job;
  job.id = row["id"].as<std::string>();
  job.tenant_id = row["tenant_id"].as<std::string>();
  job.kind = ParseStoredEnum(jobs::ParseJobKind(row["kind"].as<std::string>()), job.id);
  job.state = ParseStoredEnum(jobs::ParseJobState(row["state"].as<std::string>()), job.id);
  job.config_json = row["config"].as<std::string>();
  job.request_id = row["request_id"].as<std::string>();
  job.attempt = row["attempt"].as<int>();
  job.max_attempts = row["max_attempts"].as<int>();
  job.lease_owner = OptionalStringField(row["lease_owner"]);
  job.lease_expires_at = OptionalTimeField(row["lease_expires_at"]);
  job.cancel_requested = row["cancel_requested"].as<bool>();
  job.failure_code = OptionalStringField(row["failure_code"]);
  job.failure_reason = OptionalStringField(row["failure_reason"]);
  job.progress = row["progress"].as<double>();
  job.teacher_id = OptionalStringField(row["teacher_id"]);
  job.last_event_sequence = row["last_event_sequence"].as<int64_t>();
  job.created_at = TimeField(row["created_at"]);
  job.updated_at = TimeField(row["updated_at"]);
  job.queued_at = TimeField(row["queued_at"]);
  job.started_at = OptionalTimeField(row["started_at"]);
  job.finished_at = OptionalTimeField(row["finished_at"]);
  return job;
}

absl::StatusOr<JobRecord> LockJob(pqxx::work& txn, const std::string& job_id,
                                  const std::optional<std::string>& tenant_id) {
  pqxx::result rows = txn.exec_params(
      "SELECT " + JobColumns() +
          " FROM jobs WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2::text) FOR UPDATE",
      job_id, NullableParam(tenant_id));
  // Another tenant's job reads as missing, so ids of other tenants cannot be probed.
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  return JobRecordFromRow(rows[0]);
}

absl::Status CheckLeaseHolder(const JobRecord& job, const std::string& worker_id) {
  if (job.lease_owner == worker_id) return absl::OkStatus();
  if (!job.lease_owner.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker ", worker_id, " no longer holds the lease on job ", job.id,
                     ": the job has no lease and is ", jobs::JobStateName(job.state)));
  }
  return absl::FailedPreconditionError(absl::StrCat("worker ", worker_id,
                                                    " no longer holds the lease on job ", job.id,
                                                    ": worker ", *job.lease_owner, " holds it now"));
}

absl::StatusOr<JobRecord> ApplyStateChange(pqxx::work& txn, const JobRecord& job,
                                           const StateChange& change) {
  if (absl::Status legal = jobs::CheckTransition(job.kind, job.state, change.to); !legal.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job.id, ": ", legal.message()));
  }
  const bool to_failed = change.to == jobs::JobState::kFailed;
  if (to_failed && (!change.failure_code.has_value() || !change.failure_reason.has_value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id, ": moving to FAILED needs a failure code and reason"));
  }

  const bool clear_lease = change.to == jobs::JobState::kQueued || jobs::IsTerminal(change.to);
  const bool from_queued = job.state == jobs::JobState::kQueued;
  const std::optional<std::string> failure_code = to_failed ? change.failure_code : job.failure_code;
  const std::optional<std::string> failure_reason =
      to_failed ? change.failure_reason : job.failure_reason;

  pqxx::row row = txn.exec_params1(
      "UPDATE jobs SET "
      "  state = $2,"
      "  attempt = attempt + $3,"
      "  lease_owner = CASE WHEN $4 THEN NULL WHEN $5::text IS NOT NULL THEN $5::text"
      "                     ELSE lease_owner END,"
      "  lease_expires_at = CASE WHEN $4 THEN NULL"
      "      WHEN $5::text IS NOT NULL THEN now() + make_interval(secs => $6::float8)"
      "      ELSE lease_expires_at END,"
      "  cancel_requested = CASE WHEN $2 = 'CANCELLING' THEN true WHEN $2 = 'QUEUED' THEN false"
      "                          ELSE cancel_requested END,"
      "  failure_code = $7,"
      "  failure_reason = $8,"
      "  queued_at = CASE WHEN $2 = 'QUEUED' THEN now() ELSE queued_at END,"
      "  started_at = CASE WHEN $9 THEN now() ELSE started_at END,"
      "  finished_at = CASE WHEN $10 THEN now() ELSE NULL END,"
      "  progress = CASE WHEN $2 = 'SUCCEEDED' THEN 1 ELSE progress END,"
      "  last_event_sequence = last_event_sequence + 1,"
      "  updated_at = now() "
      "WHERE id = $1 RETURNING " +
          JobColumns(),
      job.id, std::string(jobs::JobStateName(change.to)), change.attempt_delta, clear_lease,
      NullableParam(change.grant_lease_to), change.lease_seconds, NullableParam(failure_code),
      NullableParam(failure_reason), from_queued, jobs::IsTerminal(change.to));
  JobRecord updated = JobRecordFromRow(row);

  nlohmann::json payload = {
      {"from", std::string(jobs::JobStateName(job.state))},
      {"to", std::string(jobs::JobStateName(change.to))},
      {"attempt", updated.attempt},
      {"reason", change.reason},
  };
  if (to_failed) payload["failure_code"] = *change.failure_code;
  InsertEvent(txn, job.id, updated.last_event_sequence, kStateChangedEvent, payload.dump());
  if (change.to == jobs::JobState::kQueued) {
    txn.exec_params("SELECT pg_notify($1, $2)", std::string(kJobQueuedChannel), job.id);
  }
  return updated;
}

int64_t AppendJobEvent(pqxx::work& txn, const std::string& job_id, const std::string& type,
                       const std::string& payload_json) {
  pqxx::row row = txn.exec_params1(
      "UPDATE jobs SET last_event_sequence = last_event_sequence + 1, updated_at = now() "
      "WHERE id = $1 RETURNING last_event_sequence",
      job_id);
  const int64_t sequence = row[0].as<int64_t>();
  InsertEvent(txn, job_id, sequence, type, payload_json);
  return sequence;
}

}  // namespace reftune::store
