#include "services/filter/database_resolver.h"

#include "absl/strings/str_cat.h"

namespace reftune::filter {

BaseModelSpec BaseModelSpecFromRecord(const store::BaseModelRecord& record) {
  BaseModelSpec spec;
  spec.name = record.name;
  spec.format = record.format;
  spec.path = record.path;
  spec.tokenizer_path = record.tokenizer_path;
  spec.end_of_answer_id = record.end_of_answer_token_id;
  spec.prompt_template = record.prompt_template;
  return spec;
}

absl::StatusOr<TeacherLocation> DatabaseResolver::Resolve(const std::string& teacher_id) const {
  if (teacher_id.empty()) return absl::InvalidArgumentError("teacher_id is empty");
  absl::StatusOr<store::TeacherRecord> teacher = teachers_.Get(teacher_id);
  if (!teacher.ok()) return teacher.status();
  absl::StatusOr<BaseModelSpec> base = ResolveBaseModel(teacher->base_model);
  if (!base.ok()) {
    return absl::Status(base.status().code(),
                        absl::StrCat("teacher ", teacher_id, ": ", base.status().message()));
  }

  TeacherLocation location;
  location.folder = teacher->adapter_path;
  location.base_model = *std::move(base);
  return location;
}

absl::StatusOr<BaseModelSpec> DatabaseResolver::ResolveBaseModel(const std::string& name) const {
  if (name.empty()) return absl::InvalidArgumentError("base_model is empty; set a registered name");
  absl::StatusOr<store::BaseModelRecord> record = base_models_.GetByName(name);
  if (!record.ok()) return record.status();
  return BaseModelSpecFromRecord(*record);
}

}  // namespace reftune::filter
