#include "core/store/dataset_catalog.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::store {

absl::StatusOr<std::map<std::string, std::string>> DatasetCatalog::Purposes(
    const std::vector<std::string>& dataset_ids) {
  std::map<std::string, std::string> purposes;
  if (dataset_ids.empty()) return purposes;
  return database_->TransactFor<std::map<std::string, std::string>>(
      "read dataset purposes",
      [&](pqxx::work& txn) -> absl::StatusOr<std::map<std::string, std::string>> {
        // libpqxx 6.4 has no array parameters, so the ids travel as one escaped IN list.
        std::vector<std::string> quoted;
        for (const std::string& id : dataset_ids) quoted.push_back(txn.quote(id));
        for (const pqxx::row& row : txn.exec("SELECT id, purpose FROM datasets WHERE id IN (" +
                                             absl::StrJoin(quoted, ", ") + ")")) {
          purposes[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        return purposes;
      });
}

absl::StatusOr<std::string> DatasetCatalog::ActiveJobUsing(const std::string& tenant_id,
                                                           const std::string& dataset_id) {
  return database_->TransactFor<std::string>(
      absl::StrCat("find unfinished jobs using dataset ", dataset_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::string> {
        pqxx::result rows = txn.exec_params(
            "SELECT id FROM jobs WHERE tenant_id = $1 "
            "AND state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') "
            "AND (config::jsonb ->> 'dataset_id' = $2 "
            "     OR config::jsonb ->> 'validation_dataset_id' = $2) LIMIT 1",
            tenant_id, dataset_id);
        return rows.empty() ? std::string() : rows[0][0].as<std::string>();
      });
}

absl::StatusOr<int64_t> DatasetCatalog::BytesInUse(const std::string& tenant_id) {
  return database_->TransactFor<int64_t>(
      absl::StrCat("sum dataset bytes of tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
        return txn
            .exec_params1("SELECT coalesce(sum(size_bytes), 0)::bigint FROM datasets "
                          "WHERE tenant_id = $1 AND deleted_at IS NULL",
                          tenant_id)[0]
            .as<int64_t>();
      });
}

}  // namespace reftune::store
