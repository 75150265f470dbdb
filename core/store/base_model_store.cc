#include "core/store/base_model_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "core/store/sql_values.h"

namespace reftune::store {
namespace {

const std::string kBaseModelColumns =
    "id, name, format, path, tokenizer_path, max_seq_len, end_of_answer_token_id, "
    "prompt_template, active_teacher_id, " + MicrosColumn("created_at");

BaseModelRecord BaseModelFromRow(const pqxx::row& row) {
  BaseModelRecord model;
  model.id = row["id"].as<std::string>();
  model.name = row["name"].as<std::string>();
  model.format = row["format"].as<std::string>();
  model.path = row["path"].as<std::string>();
  model.tokenizer_path = row["tokenizer_path"].as<std::string>();
  model.max_seq_len = row["max_seq_len"].as<int>();
  model.end_of_answer_token_id = row["end_of_answer_token_id"].as<int64_t>();
  model.prompt_template = row["prompt_template"].as<std::string>();
  model.active_teacher_id = OptionalStringField(row["active_teacher_id"]);
  model.created_at = TimeField(row["created_at"]);
  return model;
}

}  // namespace

absl::StatusOr<BaseModelRecord> BaseModelStore::Register(const BaseModelRecord& model) {
  if (model.format != "llama2c" && model.format != "hf_llama") {
    return absl::InvalidArgumentError(absl::StrCat(
        "base model format must be \"llama2c\" or \"hf_llama\", got \"", model.format, "\""));
  }
  if (model.end_of_answer_token_id < 0 || model.max_seq_len < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base model \"", model.name, "\": end_of_answer_token_id (",
        model.end_of_answer_token_id, ") and max_seq_len (", model.max_seq_len,
        ") must not be negative"));
  }

  absl::StatusOr<BaseModelRecord> registered = database_->TransactFor<BaseModelRecord>(
      absl::StrCat("register base model \"", model.name, "\""),
      [&](pqxx::work& txn) -> absl::StatusOr<BaseModelRecord> {
        return BaseModelFromRow(txn.exec_params1(
            "INSERT INTO base_models (name, format, path, tokenizer_path, max_seq_len, "
            "end_of_answer_token_id, prompt_template) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "RETURNING " + kBaseModelColumns,
            model.name, model.format, model.path, model.tokenizer_path, model.max_seq_len,
            model.end_of_answer_token_id, model.prompt_template));
      });
  if (absl::IsAlreadyExists(registered.status())) {
    return absl::AlreadyExistsError(
        absl::StrCat("base model \"", model.name, "\" is already registered"));
  }
  return registered;
}

absl::StatusOr<BaseModelRecord> BaseModelStore::GetByName(const std::string& name) {
  return database_->TransactFor<BaseModelRecord>(
      absl::StrCat("get base model \"", name, "\""),
      [&](pqxx::work& txn) -> absl::StatusOr<BaseModelRecord> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + kBaseModelColumns + " FROM base_models WHERE name = $1", name);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat(
              "base model \"", name, "\" not found; ListBaseModels shows the registered ones"));
        }
        return BaseModelFromRow(rows[0]);
      });
}

absl::StatusOr<std::vector<BaseModelRecord>> BaseModelStore::List() {
  return database_->TransactFor<std::vector<BaseModelRecord>>(
      "list base models", [&](pqxx::work& txn) -> absl::StatusOr<std::vector<BaseModelRecord>> {
        std::vector<BaseModelRecord> models;
        for (const pqxx::row& row :
             txn.exec("SELECT " + kBaseModelColumns + " FROM base_models ORDER BY name")) {
          models.push_back(BaseModelFromRow(row));
        }
        return models;
      });
}

}  // namespace reftune::store
