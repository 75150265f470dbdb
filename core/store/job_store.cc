#include "core/store/job_store.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/store/job_sql.h"
#include "core/store/migrations.h"
#include "core/store/sql_values.h"
#include "nlohmann/json.hpp"

namespace reftune::store {
namespace {

constexpr char kProgressEvent[] = "PROGRESS";
const std::string kCreatedAtMicros = "(extract(epoch FROM created_at) * 1000000)::bigint";

absl::StatusOr<nlohmann::json> ParseJsonObject(const std::string& text, absl::string_view field) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a JSON object, got \"", text.substr(0, 200), "\""));
  }
  return parsed;
}

// Hash of everything that makes two create requests the same request. nlohmann::json keeps object
// keys sorted, so dump() is a canonical form that ignores key order and whitespace.
std::string RequestHash(const NewJob& job, const nlohmann::json& config) {
  return Sha256Hex(absl::StrCat(jobs::JobKindName(job.kind), "\n", job.max_attempts, "\n",
                                job.teacher_id.value_or(""), "\n", config.dump()));
}

absl::Status ValidateNewJob(const NewJob& job) {
  if (job.request_id.empty()) {
    return absl::InvalidArgumentError("request_id is empty; pass a unique id per job request");
  }
  if (job.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_attempts must be at least 1, got ", job.max_attempts));
  }
  return absl::OkStatus();
}

absl::StatusOr<CreateJobResult> InsertJob(pqxx::work& txn, const std::string& tenant_id,
                                          const NewJob& job, const std::string& request_hash) {
  // Locking the tenant's limits row serializes creates per tenant, which makes both the replay
  // check and the concurrent-jobs count exact.
  pqxx::result limits = txn.exec_params(
      "SELECT max_concurrent_jobs FROM tenant_limits WHERE tenant_id = $1 FOR UPDATE", tenant_id);
  if (limits.empty()) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));

  pqxx::result existing = txn.exec_params(
      "SELECT " + JobColumns() + ", request_sha256 FROM jobs WHERE tenant_id = $1 AND request_id = $2",
      tenant_id, job.request_id);
  if (!existing.empty()) {
    JobRecord original = JobRecordFromRow(existing[0]);
    if (existing[0]["request_sha256"].as<std::string>() != request_hash) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id \"", job.request_id, "\" was already used for job ", original.id,
          " with a different request; use a new request_id for a new job"));
    }
    return CreateJobResult{std::move(original), false};
  }

  const int max_concurrent_jobs = limits[0][0].as<int>();
  const int64_t unfinished = txn.exec_params1(
      "SELECT count(*) FROM jobs WHERE tenant_id = $1 "
      "AND state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')",
      tenant_id)[0].as<int64_t>();
  if (unfinished >= max_concurrent_jobs) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tenant ", tenant_id, " already has ", unfinished, " unfinished jobs, the limit is ",
        max_concurrent_jobs, "; wait for a job to finish or cancel one"));
  }

  pqxx::row row = txn.exec_params1(
      "INSERT INTO jobs (tenant_id, kind, state, config, request_id, request_sha256, max_attempts, "
      "teacher_id) VALUES ($1, $2, 'QUEUED', $3, $4, $5, $6, $7) RETURNING " + JobColumns(),
      tenant_id, std::string(jobs::JobKindName(job.kind)), job.config_json, job.request_id,
      request_hash, job.max_attempts, NullableParam(job.teacher_id));
  JobRecord created = JobRecordFromRow(row);

  nlohmann::json payload = {{"from", nullptr}, {"to", "QUEUED"}, {"attempt", 0},
                            {"reason", "job created"}};
  created.last_event_sequence =
      AppendJobEvent(txn, created.id, kStateChangedEvent, payload.dump());
  txn.exec_params("SELECT pg_notify($1, $2)", std::string(kJobQueuedChannel), created.id);
  return CreateJobResult{std::move(created), true};
}

}  // namespace

absl::StatusOr<CreateJobResult> JobStore::CreateJob(const std::string& tenant_id,
                                                    const NewJob& job) {
  if (absl::Status status = ValidateNewJob(job); !status.ok()) return status;
  absl::StatusOr<nlohmann::json> config = ParseJsonObject(job.config_json, "job config");
  if (!config.ok()) return config.status();
  const std::string request_hash = RequestHash(job, *config);

  return database_->TransactFor<CreateJobResult>(
      absl::StrCat("create job for tenant ", tenant_id, " with request_id \"", job.request_id,
                   "\""),
      [&](pqxx::work& txn) { return InsertJob(txn, tenant_id, job, request_hash); });
}

absl::StatusOr<JobRecord> JobStore::GetJob(const std::string& tenant_id,
                                           const std::string& job_id) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("get job ", job_id), [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + JobColumns() + " FROM jobs WHERE id = $1 AND tenant_id = $2", job_id,
            tenant_id);
        if (rows.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
        return JobRecordFromRow(rows[0]);
      });
}

absl::StatusOr<JobRecord> JobStore::GetJobForWorker(const std::string& job_id) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("get job ", job_id), [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        pqxx::result rows =
            txn.exec_params("SELECT " + JobColumns() + " FROM jobs WHERE id = $1", job_id);
        if (rows.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
        return JobRecordFromRow(rows[0]);
      });
}

absl::StatusOr<Page<JobRecord>> JobStore::ListJobs(const std::string& tenant_id,
                                                   const PageRequest& page,
                                                   std::optional<jobs::JobState> state) {
  absl::StatusOr<int> page_size = ResolvePageSize(page.page_size);
  if (!page_size.ok()) return page_size.status();
  std::optional<TimeIdCursor> after;
  if (!page.page_token.empty()) {
    absl::StatusOr<TimeIdCursor> cursor = DecodeTimeIdCursor(page.page_token);
    if (!cursor.ok()) return cursor.status();
    after = *cursor;
  }
  std::optional<std::string> after_micros;
  std::optional<std::string> after_id;
  if (after.has_value()) {
    after_micros = absl::StrCat(after->created_at_micros);
    after_id = after->id;
  }
  std::optional<std::string> state_name;
  if (state.has_value()) state_name = std::string(jobs::JobStateName(*state));

  return database_->TransactFor<Page<JobRecord>>(
      absl::StrCat("list jobs of tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<Page<JobRecord>> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + JobColumns() + " FROM jobs WHERE tenant_id = $1 AND ($2::bigint IS NULL OR (" +
                kCreatedAtMicros + ", id) < ($2::bigint, $3::text)) "
                "AND ($5::text IS NULL OR state = $5) "
                "ORDER BY created_at DESC, id DESC LIMIT $4",
            tenant_id, NullableParam(after_micros), NullableParam(after_id), *page_size + 1,
            NullableParam(state_name));
        return CollectPage<JobRecord>(rows, *page_size, JobRecordFromRow, [](const JobRecord& last) {
          return EncodeTimeIdCursor({absl::ToUnixMicros(last.created_at), last.id});
        });
      });
}

absl::StatusOr<Page<JobEvent>> JobStore::ListJobEvents(const std::string& tenant_id,
                                                       const std::string& job_id,
                                                       const PageRequest& page) {
  absl::StatusOr<int> page_size = ResolvePageSize(page.page_size);
  if (!page_size.ok()) return page_size.status();
  int64_t after_sequence = 0;
  if (!page.page_token.empty()) {
    absl::StatusOr<int64_t> cursor = DecodeSequenceCursor(page.page_token);
    if (!cursor.ok()) return cursor.status();
    after_sequence = *cursor;
  }

  return database_->TransactFor<Page<JobEvent>>(
      absl::StrCat("list events of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<Page<JobEvent>> {
        pqxx::result owner = txn.exec_params(
            "SELECT 1 FROM jobs WHERE id = $1 AND tenant_id = $2", job_id, tenant_id);
        if (owner.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));

        pqxx::result rows = txn.exec_params(
            "SELECT sequence, type, payload::text, " + MicrosColumn("created_at") +
                " FROM job_events WHERE job_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
            job_id, after_sequence, *page_size + 1);
        return CollectPage<JobEvent>(
            rows, *page_size,
            [&](const pqxx::row& row) {
              return JobEvent{job_id, row[0].as<int64_t>(), row[1].as<std::string>(),
                              row[2].as<std::string>(), TimeField(row[3])};
            },
            [](const JobEvent& last) { return EncodeSequenceCursor(last.sequence); });
      });
}

absl::StatusOr<JobRecord> JobStore::CancelJob(const std::string& tenant_id,
                                              const std::string& job_id) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("cancel job ", job_id), [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id, tenant_id);
        if (!job.ok()) return job.status();
        if (job->state == jobs::JobState::kCancelling) return job;
        if (jobs::IsTerminal(job->state)) {
          return absl::FailedPreconditionError(
              absl::StrCat("job ", job_id, " is already ", jobs::JobStateName(job->state),
                           "; only queued or running jobs can be cancelled"));
        }
        StateChange change;
        if (job->state == jobs::JobState::kQueued) {
          change.to = jobs::JobState::kCancelled;
          change.reason = "cancelled before a worker claimed it";
        } else {
          change.to = jobs::JobState::kCancelling;
          change.reason = "cancel requested; the worker stops at its next check";
        }
        return ApplyStateChange(txn, *job, change);
      });
}

absl::StatusOr<JobRecord> JobStore::TransitionAsWorker(const std::string& job_id,
                                                       const std::string& worker_id,
                                                       const WorkerTransition& transition) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("move job ", job_id, " to ", jobs::JobStateName(transition.to), " as worker ",
                   worker_id),
      [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (absl::Status held = CheckLeaseHolder(*job, worker_id); !held.ok()) return held;
        StateChange change;
        change.to = transition.to;
        change.reason = transition.reason;
        change.failure_code = transition.failure_code;
        change.failure_reason = transition.failure_reason;
        return ApplyStateChange(txn, *job, change);
      });
}

absl::Status JobStore::RecordProgress(const std::string& job_id, const std::string& worker_id,
                                      double progress, const std::string& payload_json) {
  if (!(progress >= 0 && progress <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress of job ", job_id, " must be in [0, 1], got ", progress));
  }
  absl::StatusOr<nlohmann::json> payload = ParseJsonObject(payload_json, "progress payload");
  if (!payload.ok()) return payload.status();
  (*payload)["progress"] = progress;

  return database_->Transact(
      absl::StrCat("record progress of job ", job_id), [&](pqxx::work& txn) -> absl::Status {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (absl::Status held = CheckLeaseHolder(*job, worker_id); !held.ok()) return held;
        txn.exec_params("UPDATE jobs SET progress = $2 WHERE id = $1", job_id, progress);
        AppendJobEvent(txn, job_id, kProgressEvent, payload->dump());
        return absl::OkStatus();
      });
}

}  // namespace reftune::store
