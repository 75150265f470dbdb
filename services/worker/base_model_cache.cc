#include "services/worker/base_model_cache.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/model/checkpoint.h"
#include "glog/logging.h"
#include "services/worker/job_failure.h"

namespace reftune::worker {
namespace {

absl::StatusOr<model::Checkpoint> LoadCheckpoint(const store::BaseModelRecord& record) {
  if (record.format == "llama2c") {
    return model::LoadLlama2cCheckpoint(record.path, record.tokenizer_path);
  }
  if (record.format == "hf_llama") return model::LoadHuggingFaceCheckpoint(record.path);
  return absl::InvalidArgumentError(absl::StrCat("base model \"", record.name, "\" has format \"",
                                                 record.format,
                                                 "\"; expected llama2c or hf_llama"));
}

}  // namespace

std::string TeacherAdapterName(const std::string& teacher_id) {
  return absl::StrCat("teacher-", teacher_id);
}

absl::StatusOr<std::shared_ptr<LoadedBaseModel>> BaseModelCache::Get(
    const store::BaseModelRecord& record) {
  const std::string key = absl::StrCat(record.name, "\n", record.path);
  if (auto it = models_.find(key); it != models_.end()) return it->second;

  absl::StatusOr<model::Checkpoint> checkpoint = LoadCheckpoint(record);
  if (!checkpoint.ok()) {
    return MissingModelError(absl::StrCat("cannot load base model \"", record.name, "\" from ",
                                          record.path, ": ", checkpoint.status().message()));
  }
  if (checkpoint->tokenizer == nullptr) {
    return MissingModelError(absl::StrCat("base model \"", record.name,
                                          "\" has no tokenizer; register its tokenizer_path"));
  }
  checkpoint->config.end_of_answer_id = record.end_of_answer_token_id;

  auto loaded = std::make_shared<LoadedBaseModel>();
  loaded->record = record;
  loaded->tokenizer = checkpoint->tokenizer;
  absl::StatusOr<model::Transformer> transformer =
      model::CreateTransformer(*checkpoint, device_);
  if (!transformer.ok()) {
    return MissingModelError(absl::StrCat("cannot build base model \"", record.name,
                                          "\": ", transformer.status().message()));
  }
  loaded->model = *transformer;

  absl::StatusOr<data::PromptTemplate> prompt_template =
      data::PromptTemplate::Create(record.name, record.prompt_template);
  if (!prompt_template.ok()) {
    return MissingModelError(absl::StrCat("base model \"", record.name,
                                          "\" has an unusable prompt template: ",
                                          prompt_template.status().message()));
  }
  loaded->prompt_template = *prompt_template;

  ++loads_;
  LOG(INFO) << "loaded base model \"" << record.name << "\" from " << record.path;
  models_[key] = loaded;
  return loaded;
}

absl::Status BaseModelCache::EnsureTeacherAdapter(LoadedBaseModel& base,
                                                  const std::string& teacher_id,
                                                  const method::TeacherArtifact& teacher) {
  const std::string name = TeacherAdapterName(teacher_id);
  if (base.model->HasAdapter(name)) return absl::OkStatus();
  absl::Status installed = method::InstallTeacherAdapter(base.model, teacher, name);
  if (!installed.ok()) {
    return MissingModelError(absl::StrCat("cannot install teacher ", teacher_id, " on base model \"",
                                          base.record.name, "\": ", installed.message()));
  }
  return absl::OkStatus();
}

}  // namespace reftune::worker
