// Dataset metadata rows; the bytes themselves live in the artifact store at storage_path.
#ifndef REFTUNE_CORE_STORE_DATASET_STORE_H_
#define REFTUNE_CORE_STORE_DATASET_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"
#include "core/store/paging.h"

namespace reftune::store {

struct NewDataset {
  std::string name;
  // Lowercase hex SHA-256 of the stored bytes (64 characters).
  std::string sha256;
  int64_t size_bytes = 0;
  int64_t record_count = 0;
  std::string storage_path;
  // JSON object produced by the validator; "{}" when there is nothing to report.
  std::string validation_report_json = "{}";
  // FINETUNE, ALIGNMENT or HARMFUL_EVAL (the constants in dataset_catalog.h).
  std::string purpose = "FINETUNE";
};

struct DatasetRecord {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string sha256;
  int64_t size_bytes = 0;
  int64_t record_count = 0;
  std::string storage_path;
  std::string validation_report_json;
  absl::Time created_at;
  std::optional<absl::Time> deleted_at;
};

// Thread-safe; `database` must outlive the store. Another tenant's dataset reads as NOT_FOUND.
class DatasetStore {
 public:
  explicit DatasetStore(Database* database) : database_(database) {}

  // RESOURCE_EXHAUSTED when the tenant's datasets that are not deleted would pass
  // max_dataset_bytes; INVALID_ARGUMENT for an empty name or path, a malformed sha256, negative
  // sizes or a report that is not a JSON object.
  absl::StatusOr<DatasetRecord> CreateDataset(const std::string& tenant_id,
                                              const NewDataset& dataset);

  // Deleted datasets are NOT_FOUND.
  absl::StatusOr<DatasetRecord> GetDataset(const std::string& tenant_id,
                                           const std::string& dataset_id);

  // The tenant's datasets that are not deleted, newest first.
  absl::StatusOr<Page<DatasetRecord>> ListDatasets(const std::string& tenant_id,
                                                   const PageRequest& page);

  // Marks the dataset deleted, so its bytes stop counting against the tenant's limit. Jobs that
  // already use it keep their copy of the path.
  absl::Status DeleteDataset(const std::string& tenant_id, const std::string& dataset_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_DATASET_STORE_H_
