// Dataset columns that DatasetStore does not cover: the purpose of a dataset and the bytes a
// tenant's datasets take up.
#ifndef REFTUNE_CORE_STORE_DATASET_CATALOG_H_
#define REFTUNE_CORE_STORE_DATASET_CATALOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/store/database.h"

namespace reftune::store {

// Stored purpose names.
inline constexpr char kFinetunePurpose[] = "FINETUNE";
inline constexpr char kAlignmentPurpose[] = "ALIGNMENT";
inline constexpr char kHarmfulEvalPurpose[] = "HARMFUL_EVAL";

// Thread-safe; `database` must outlive the catalog.
class DatasetCatalog {
 public:
  explicit DatasetCatalog(Database* database) : database_(database) {}

  // Purposes of the given datasets of any tenant, by id; unknown ids are left out.
  absl::StatusOr<std::map<std::string, std::string>> Purposes(
      const std::vector<std::string>& dataset_ids);

  // Id of an unfinished job of the tenant whose config names the dataset as its training or
  // validation set; empty when none does.
  absl::StatusOr<std::string> ActiveJobUsing(const std::string& tenant_id,
                                             const std::string& dataset_id);

  // Bytes of the tenant's datasets that are not deleted.
  absl::StatusOr<int64_t> BytesInUse(const std::string& tenant_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_DATASET_CATALOG_H_
