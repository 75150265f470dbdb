#include "core/store/teacher_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "core/store/sql_values.h"

namespace reftune::store {
namespace {

// Select list over `teachers t JOIN base_models b`, matching TeacherFromRow.
const std::string kTeacherColumns =
    "t.id, b.name AS base_model, t.job_id, t.adapter_path, t.layer, t.refusal_feature_path, "
    "t.threshold, t.quality_report::text AS quality_report, t.harmful_eval_dataset_id, "
    "t.prompt_template, (b.active_teacher_id IS NOT DISTINCT FROM t.id) AS active, " +
    MicrosColumn("t.created_at");
const std::string kTeacherFrom = " FROM teachers t JOIN base_models b ON b.id = t.base_model_id";

TeacherRecord TeacherFromRow(const pqxx::row& row) {
  TeacherRecord teacher;
  teacher.id = row["id"].as<std::string>();
  teacher.base_model = row["base_model"].as<std::string>();
  teacher.job_id = OptionalStringField(row["job_id"]).value_or("");
  teacher.adapter_path = row["adapter_path"].as<std::string>();
  teacher.layer = row["layer"].as<int>();
  teacher.refusal_feature_path = row["refusal_feature_path"].as<std::string>();
  teacher.threshold = row["threshold"].as<double>();
  teacher.quality_report_json = row["quality_report"].as<std::string>();
  teacher.harmful_eval_dataset_id = OptionalStringField(row["harmful_eval_dataset_id"]).value_or("");
  teacher.prompt_template = row["prompt_template"].as<std::string>();
  teacher.active = row["active"].as<bool>();
  teacher.created_at = TimeField(row["created_at"]);
  return teacher;
}

absl::StatusOr<TeacherRecord> SelectTeacher(pqxx::work& txn, const std::string& teacher_id) {
  pqxx::result rows = txn.exec_params(
      "SELECT " + kTeacherColumns + kTeacherFrom + " WHERE t.id = $1", teacher_id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
  return TeacherFromRow(rows[0]);
}

std::optional<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<TeacherRecord> TeacherStore::Create(const TeacherRecord& teacher) {
  return database_->TransactFor<TeacherRecord>(
      absl::StrCat("create teacher for base model \"", teacher.base_model, "\""),
      [&](pqxx::work& txn) -> absl::StatusOr<TeacherRecord> {
        pqxx::result model =
            txn.exec_params("SELECT id FROM base_models WHERE name = $1", teacher.base_model);
        if (model.empty()) {
          return absl::NotFoundError(
              absl::StrCat("base model \"", teacher.base_model, "\" not found"));
        }
        pqxx::row inserted = txn.exec_params1(
            "INSERT INTO teachers (base_model_id, job_id, adapter_path, layer, "
            "refusal_feature_path, threshold, quality_report, harmful_eval_dataset_id, "
            "prompt_template) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING id",
            model[0][0].as<std::string>(), NullableParam(NonEmpty(teacher.job_id)),
            teacher.adapter_path, teacher.layer, teacher.refusal_feature_path, teacher.threshold,
            teacher.quality_report_json, NullableParam(NonEmpty(teacher.harmful_eval_dataset_id)),
            teacher.prompt_template);
        return SelectTeacher(txn, inserted[0].as<std::string>());
      });
}

absl::StatusOr<TeacherRecord> TeacherStore::Get(const std::string& teacher_id) {
  return database_->TransactFor<TeacherRecord>(
      absl::StrCat("get teacher ", teacher_id),
      [&](pqxx::work& txn) { return SelectTeacher(txn, teacher_id); });
}

absl::StatusOr<std::vector<TeacherRecord>> TeacherStore::List(const std::string& base_model) {
  return database_->TransactFor<std::vector<TeacherRecord>>(
      absl::StrCat("list teachers of base model \"", base_model, "\""),
      [&](pqxx::work& txn) -> absl::StatusOr<std::vector<TeacherRecord>> {
        std::vector<TeacherRecord> teachers;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT " + kTeacherColumns + kTeacherFrom +
                     " WHERE $1 = '' OR b.name = $1 ORDER BY t.created_at DESC, t.id DESC",
                 base_model)) {
          teachers.push_back(TeacherFromRow(row));
        }
        return teachers;
      });
}

absl::StatusOr<TeacherRecord> TeacherStore::Promote(const std::string& teacher_id) {
  return database_->TransactFor<TeacherRecord>(
      absl::StrCat("promote teacher ", teacher_id),
      [&](pqxx::work& txn) -> absl::StatusOr<TeacherRecord> {
        // Locking the base model row makes concurrent promotions for one model take turns, so
        // exactly one teacher ends up active.
        pqxx::result model = txn.exec_params(
            "SELECT b.id FROM base_models b JOIN teachers t ON t.base_model_id = b.id "
            "WHERE t.id = $1 FOR UPDATE OF b",
            teacher_id);
        if (model.empty()) {
          return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
        }
        txn.exec_params("UPDATE base_models SET active_teacher_id = $2 WHERE id = $1",
                        model[0][0].as<std::string>(), teacher_id);
        return SelectTeacher(txn, teacher_id);
      });
}

absl::StatusOr<std::optional<TeacherRecord>> TeacherStore::Active(const std::string& base_model) {
  return database_->TransactFor<std::optional<TeacherRecord>>(
      absl::StrCat("get the active teacher of base model \"", base_model, "\""),
      [&](pqxx::work& txn) -> absl::StatusOr<std::optional<TeacherRecord>> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + kTeacherColumns + kTeacherFrom +
                " WHERE b.name = $1 AND b.active_teacher_id = t.id",
            base_model);
        if (rows.empty()) return std::optional<TeacherRecord>();
        return std::optional<TeacherRecord>(TeacherFromRow(rows[0]));
      });
}

}  // namespace reftune::store
