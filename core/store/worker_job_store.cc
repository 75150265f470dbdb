#include "core/store/worker_job_store.h"

#include "absl/strings/str_cat.h"
#include "core/store/job_sql.h"
#include "nlohmann/json.hpp"

namespace reftune::store {

absl::StatusOr<int64_t> WorkerJobStore::AppendEvent(const std::string& job_id,
                                                      const std::string& worker_id,
                                                      const std::string& type,
                                                      const std::string& payload_json) {
  if (type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("event type for job ", job_id, " is empty"));
  }
  if (!nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false).is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("payload of ", type, " event for job ", job_id,
                                                   " is not a JSON object: ", payload_json));
  }
  return database_->TransactFor<int64_t>(
      absl::StrCat("append ", type, " event to job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (absl::Status held = CheckLeaseHolder(*job, worker_id); !held.ok()) return held;
        return AppendJobEvent(txn, job_id, type, payload_json);
      });
}

absl::Status WorkerJobStore::SetTeacher(const std::string& job_id, const std::string& worker_id,
                                          const std::string& teacher_id) {
  return database_->Transact(
      absl::StrCat("set teacher ", teacher_id, " on job ", job_id),
      [&](pqxx::work& txn) -> absl::Status {
        absl::StatusOr<JobRecord> job = LockJob(txn, job_id);
        if (!job.ok()) return job.status();
        if (absl::Status held = CheckLeaseHolder(*job, worker_id); !held.ok()) return held;
        txn.exec_params("UPDATE jobs SET teacher_id = $2, updated_at = now() WHERE id = $1",
                        job_id, teacher_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::string> WorkerJobStore::DatasetStoragePath(const std::string& dataset_id) {
  return database_->TransactFor<std::string>(
      absl::StrCat("get the storage path of dataset ", dataset_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::string> {
        pqxx::result rows = txn.exec_params(
            "SELECT storage_path FROM datasets WHERE id = $1 AND deleted_at IS NULL", dataset_id);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("dataset ", dataset_id, " not found"));
        }
        return rows[0][0].as<std::string>();
      });
}

}  // namespace reftune::store
