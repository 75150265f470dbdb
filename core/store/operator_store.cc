#include "core/store/operator_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "core/store/job_sql.h"
#include "core/store/sql_values.h"

namespace reftune::store {

absl::StatusOr<std::vector<Tenant>> OperatorStore::ListTenants() {
  return database_->TransactFor<std::vector<Tenant>>(
      "list tenants", [&](pqxx::work& txn) -> absl::StatusOr<std::vector<Tenant>> {
        std::vector<Tenant> tenants;
        for (const pqxx::row& row : txn.exec(
                 "SELECT t.id, t.name, l.max_concurrent_jobs, l.max_dataset_bytes, " +
                 MicrosColumn("t.created_at") +
                 " FROM tenants t JOIN tenant_limits l ON l.tenant_id = t.id ORDER BY t.name")) {
          Tenant tenant;
          tenant.id = row[0].as<std::string>();
          tenant.name = row[1].as<std::string>();
          tenant.limits.max_concurrent_jobs = row[2].as<int>();
          tenant.limits.max_dataset_bytes = row[3].as<int64_t>();
          tenant.created_at = TimeField(row[4]);
          tenants.push_back(std::move(tenant));
        }
        return tenants;
      });
}

absl::StatusOr<ApiKeyRecord> OperatorStore::GetApiKey(const std::string& api_key_id) {
  return database_->TransactFor<ApiKeyRecord>(
      absl::StrCat("get API key ", api_key_id),
      [&](pqxx::work& txn) -> absl::StatusOr<ApiKeyRecord> {
        pqxx::result rows = txn.exec_params(
            "SELECT id, tenant_id, prefix, role, " + MicrosColumn("created_at") + ", " +
                MicrosColumn("expires_at") + ", " + MicrosColumn("revoked_at") +
                " FROM api_keys WHERE id = $1",
            api_key_id);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("API key ", api_key_id, " not found"));
        }
        const pqxx::row& row = rows[0];
        ApiKeyRecord key;
        key.id = row["id"].as<std::string>();
        key.tenant_id = row["tenant_id"].as<std::string>();
        key.prefix = row["prefix"].as<std::string>();
        key.role = row["role"].as<std::string>() == "operator" ? ApiKeyRole::kOperator
                                                               : ApiKeyRole::kCustomer;
        key.created_at = TimeField(row["created_at"]);
        key.expires_at = OptionalTimeField(row["expires_at"]);
        key.revoked_at = OptionalTimeField(row["revoked_at"]);
        return key;
      });
}

absl::StatusOr<bool> OperatorStore::HasOperatorKey(const std::string& tenant_id) {
  return database_->TransactFor<bool>(
      absl::StrCat("look for operator keys of tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<bool> {
        return !txn.exec_params(
                       "SELECT 1 FROM api_keys WHERE tenant_id = $1 AND role = 'operator' LIMIT 1",
                       tenant_id)
                    .empty();
      });
}

absl::StatusOr<std::vector<WorkerRecord>> OperatorStore::ListWorkers() {
  return database_->TransactFor<std::vector<WorkerRecord>>(
      "list workers", [&](pqxx::work& txn) -> absl::StatusOr<std::vector<WorkerRecord>> {
        std::vector<WorkerRecord> workers;
        for (const pqxx::row& row : txn.exec(
                 "SELECT w.id, w.host, " + MicrosColumn("w.started_at") + ", " +
                 MicrosColumn("w.last_heartbeat_at") +
                 ", (SELECT j.id FROM jobs j WHERE j.lease_owner = w.id "
                 "   ORDER BY j.started_at DESC LIMIT 1) AS job_id "
                 "FROM workers w ORDER BY w.last_heartbeat_at DESC, w.id")) {
          WorkerRecord worker;
          worker.id = row["id"].as<std::string>();
          worker.host = row["host"].as<std::string>();
          worker.started_at = TimeField(row["started_at"]);
          worker.last_heartbeat_at = TimeField(row["last_heartbeat_at"]);
          worker.job_id = OptionalStringField(row["job_id"]).value_or("");
          workers.push_back(std::move(worker));
        }
        return workers;
      });
}

absl::StatusOr<JobRecord> OperatorStore::RequeueJob(const std::string& job_id,
                                                    const std::string& reason) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("requeue job ", job_id), [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (!jobs::IsRunning(job->state)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "job ", job_id, " is ", jobs::JobStateName(job->state),
              "; only a running job (SCREENING to EXPORTING) can be requeued"));
        }
        StateChange change;
        change.to = jobs::JobState::kQueued;
        change.reason = absl::StrCat("requeued by an operator: ", reason);
        return ApplyStateChange(txn, *job, change);
      });
}

absl::StatusOr<JobRecord> OperatorStore::FailJob(const std::string& job_id,
                                                 const std::string& reason) {
  return database_->TransactFor<JobRecord>(
      absl::StrCat("fail job ", job_id), [&](pqxx::work& txn) -> absl::StatusOr<JobRecord> {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (job->state == jobs::JobState::kQueued || jobs::IsTerminal(job->state)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "job ", job_id, " is ", jobs::JobStateName(job->state),
              "; only a running or CANCELLING job can be failed"));
        }
        StateChange change;
        change.to = jobs::JobState::kFailed;
        change.reason = reason;
        change.failure_code = kOperatorFailure;
        change.failure_reason = reason;
        return ApplyStateChange(txn, *job, change);
      });
}

}  // namespace reftune::store
