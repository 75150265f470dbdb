// Training checkpoints of jobs (the checkpoints table): which step was saved where, so a worker
// that claims a job again resumes from its newest checkpoint.
#ifndef REFTUNE_CORE_STORE_CHECKPOINT_STORE_H_
#define REFTUNE_CORE_STORE_CHECKPOINT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"

namespace reftune::store {

struct CheckpointRecord {
  std::string job_id;
  // Optimizer steps finished when the checkpoint was saved.
  int64_t step = 0;
  // Folder or file holding the training state.
  std::string path;
  absl::Time created_at;
};

// Thread-safe; `database` must outlive the store.
class CheckpointStore {
 public:
  explicit CheckpointStore(Database* database) : database_(database) {}

  // Records a checkpoint; saving the same step again replaces its path. INVALID_ARGUMENT for a
  // negative step or an empty path, FAILED_PRECONDITION when the job does not exist.
  absl::Status RecordCheckpoint(const std::string& job_id, int64_t step, const std::string& path);

  // The checkpoint with the highest step; nullopt when the job has none.
  absl::StatusOr<std::optional<CheckpointRecord>> LatestCheckpoint(const std::string& job_id);

  // Every checkpoint of the job, oldest step first.
  absl::StatusOr<std::vector<CheckpointRecord>> ListCheckpoints(const std::string& job_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_CHECKPOINT_STORE_H_
