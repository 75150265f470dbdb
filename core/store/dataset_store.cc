#include "core/store/dataset_store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/store/dataset_catalog.h"
#include "core/store/sql_values.h"
#include "nlohmann/json.hpp"

namespace reftune::store {
namespace {

const std::string& DatasetColumns() {
  static const std::string columns = absl::StrCat(
      "id, tenant_id, name, sha256, size_bytes, record_count, storage_path, "
      "validation_report::text, ",
      MicrosColumn("created_at"), ", ", MicrosColumn("deleted_at"));
  return columns;
}

DatasetRecord DatasetFromRow(const pqxx::row& row) {
  DatasetRecord dataset;
  dataset.id = row[0].as<std::string>();
  dataset.tenant_id = row[1].as<std::string>();
  dataset.name = row[2].as<std::string>();
  dataset.sha256 = row[3].as<std::string>();
  dataset.size_bytes = row[4].as<int64_t>();
  dataset.record_count = row[5].as<int64_t>();
  dataset.storage_path = row[6].as<std::string>();
  dataset.validation_report_json = row[7].as<std::string>();
  dataset.created_at = TimeField(row[8]);
  dataset.deleted_at = OptionalTimeField(row[9]);
  return dataset;
}

absl::Status ValidateNewDataset(const NewDataset& dataset) {
  if (dataset.name.empty()) return absl::InvalidArgumentError("dataset name is empty");
  if (dataset.storage_path.empty()) return absl::InvalidArgumentError("dataset storage_path is empty");
  bool hex = dataset.sha256.size() == 64;
  for (char c : dataset.sha256) hex = hex && absl::ascii_isxdigit(c) && !absl::ascii_isupper(c);
  if (!hex) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset sha256 must be 64 lowercase hex digits, got \"", dataset.sha256, "\""));
  }
  if (dataset.purpose != kFinetunePurpose && dataset.purpose != kAlignmentPurpose &&
      dataset.purpose != kHarmfulEvalPurpose) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset purpose must be FINETUNE, ALIGNMENT or HARMFUL_EVAL, got \"", dataset.purpose,
        "\""));
  }
  if (dataset.size_bytes < 0 || dataset.record_count < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset size_bytes and record_count must not be negative, got ", dataset.size_bytes,
        " and ", dataset.record_count));
  }
  nlohmann::json report =
      nlohmann::json::parse(dataset.validation_report_json, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.is_object()) {
    return absl::InvalidArgumentError("dataset validation_report_json must be a JSON object");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DatasetRecord> DatasetStore::CreateDataset(const std::string& tenant_id,
                                                          const NewDataset& dataset) {
  if (absl::Status status = ValidateNewDataset(dataset); !status.ok()) return status;

  return database_->TransactFor<DatasetRecord>(
      absl::StrCat("create dataset \"", dataset.name, "\" for tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<DatasetRecord> {
        // The lock on the limits row serializes uploads of one tenant, so the sum below is exact.
        pqxx::result limits = txn.exec_params(
            "SELECT max_dataset_bytes FROM tenant_limits WHERE tenant_id = $1 FOR UPDATE",
            tenant_id);
        if (limits.empty()) {
          return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
        }
        const int64_t max_bytes = limits[0][0].as<int64_t>();
        const int64_t used_bytes = txn.exec_params1(
            "SELECT coalesce(sum(size_bytes), 0)::bigint FROM datasets "
            "WHERE tenant_id = $1 AND deleted_at IS NULL",
            tenant_id)[0].as<int64_t>();
        if (used_bytes + dataset.size_bytes > max_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "dataset of ", dataset.size_bytes, " bytes would bring tenant ", tenant_id, " to ",
              used_bytes + dataset.size_bytes, " bytes, over its limit of ", max_bytes,
              " bytes; delete datasets that are no longer needed"));
        }

        return DatasetFromRow(txn.exec_params1(
            "INSERT INTO datasets (tenant_id, name, sha256, size_bytes, record_count, "
            "storage_path, validation_report, purpose) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING " + DatasetColumns(),
            tenant_id, dataset.name, dataset.sha256, dataset.size_bytes, dataset.record_count,
            dataset.storage_path, dataset.validation_report_json, dataset.purpose));
      });
}

absl::StatusOr<DatasetRecord> DatasetStore::GetDataset(const std::string& tenant_id,
                                                       const std::string& dataset_id) {
  return database_->TransactFor<DatasetRecord>(
      absl::StrCat("get dataset ", dataset_id),
      [&](pqxx::work& txn) -> absl::StatusOr<DatasetRecord> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + DatasetColumns() +
                " FROM datasets WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
            dataset_id, tenant_id);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("dataset ", dataset_id, " not found"));
        }
        return DatasetFromRow(rows[0]);
      });
}

absl::StatusOr<Page<DatasetRecord>> DatasetStore::ListDatasets(const std::string& tenant_id,
                                                               const PageRequest& page) {
  absl::StatusOr<int> page_size = ResolvePageSize(page.page_size);
  if (!page_size.ok()) return page_size.status();
  std::optional<std::string> after_micros;
  std::optional<std::string> after_id;
  if (!page.page_token.empty()) {
    absl::StatusOr<TimeIdCursor> cursor = DecodeTimeIdCursor(page.page_token);
    if (!cursor.ok()) return cursor.status();
    after_micros = absl::StrCat(cursor->created_at_micros);
    after_id = cursor->id;
  }

  return database_->TransactFor<Page<DatasetRecord>>(
      absl::StrCat("list datasets of tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<Page<DatasetRecord>> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + DatasetColumns() +
                " FROM datasets WHERE tenant_id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL"
                " OR ((extract(epoch FROM created_at) * 1000000)::bigint, id) < ($2::bigint, $3::text))"
                " ORDER BY created_at DESC, id DESC LIMIT $4",
            tenant_id, NullableParam(after_micros), NullableParam(after_id), *page_size + 1);
        return CollectPage<DatasetRecord>(
            rows, *page_size, DatasetFromRow, [](const DatasetRecord& last) {
              return EncodeTimeIdCursor({absl::ToUnixMicros(last.created_at), last.id});
            });
      });
}

absl::Status DatasetStore::DeleteDataset(const std::string& tenant_id,
                                         const std::string& dataset_id) {
  return database_->Transact(
      absl::StrCat("delete dataset ", dataset_id), [&](pqxx::work& txn) -> absl::Status {
        pqxx::result updated = txn.exec_params(
            "UPDATE datasets SET deleted_at = now() "
            "WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
            dataset_id, tenant_id);
        if (updated.affected_rows() == 0) {
          return absl::NotFoundError(absl::StrCat("dataset ", dataset_id, " not found"));
        }
        return absl::OkStatus();
      });
}

}  // namespace reftune::store
