#include "core/store/checkpoint_store.h"

#include "absl/strings/str_cat.h"
#include "core/store/sql_values.h"

namespace reftune::store {
namespace {

CheckpointRecord CheckpointFromRow(const pqxx::row& row) {
  CheckpointRecord checkpoint;
  checkpoint.job_id = row["job_id"].as<std::string>();
  checkpoint.step = row["step"].as<int64_t>();
  checkpoint.path = row["path"].as<std::string>();
  checkpoint.created_at = TimeField(row["created_at"]);
  return checkpoint;
}

const std::string kCheckpointColumns = "job_id, step, path, " + MicrosColumn("created_at");

}  // namespace

absl::Status CheckpointStore::RecordCheckpoint(const std::string& job_id, int64_t step,
                                               const std::string& path) {
  if (step < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint step of job ", job_id, " is ", step, "; expected >= 0"));
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint path of job ", job_id, " at step ", step, " is empty"));
  }
  return database_->Transact(
      absl::StrCat("record checkpoint of job ", job_id, " at step ", step),
      [&](pqxx::work& txn) -> absl::Status {
        txn.exec_params(
            "INSERT INTO checkpoints (job_id, step, path) VALUES ($1, $2, $3) "
            "ON CONFLICT (job_id, step) DO UPDATE SET path = EXCLUDED.path, created_at = now()",
            job_id, step, path);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::optional<CheckpointRecord>> CheckpointStore::LatestCheckpoint(
    const std::string& job_id) {
  return database_->TransactFor<std::optional<CheckpointRecord>>(
      absl::StrCat("get the latest checkpoint of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::optional<CheckpointRecord>> {
        pqxx::result rows = txn.exec_params("SELECT " + kCheckpointColumns +
                                                " FROM checkpoints WHERE job_id = $1 "
                                                "ORDER BY step DESC LIMIT 1",
                                            job_id);
        if (rows.empty()) return std::optional<CheckpointRecord>();
        return std::optional<CheckpointRecord>(CheckpointFromRow(rows[0]));
      });
}

absl::StatusOr<std::vector<CheckpointRecord>> CheckpointStore::ListCheckpoints(
    const std::string& job_id) {
  return database_->TransactFor<std::vector<CheckpointRecord>>(
      absl::StrCat("list checkpoints of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::vector<CheckpointRecord>> {
        std::vector<CheckpointRecord> checkpoints;
        for (const pqxx::row& row : txn.exec_params("SELECT " + kCheckpointColumns +
                                                        " FROM checkpoints WHERE job_id = $1 "
                                                        "ORDER BY step",
                                                    job_id)) {
          checkpoints.push_back(CheckpointFromRow(row));
        }
        return checkpoints;
      });
}

}  // namespace reftune::store
