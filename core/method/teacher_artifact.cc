#include "core/method/teacher_artifact.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/jsonl.h"
#include "core/model/safetensors_torch.h"
#include "core/method/sha256_digest.h"

namespace reftune::method {
namespace {

constexpr char kAdapterConfigFile[] = "adapter_config.json";
constexpr char kAdapterWeightsFile[] = "adapter_model.safetensors";
constexpr char kRefusalFile[] = "refusal_feature.safetensors";
constexpr char kTeacherFile[] = "teacher.json";
constexpr char kRefusalTensor[] = "refusal_feature";

absl::Status WriteJson(const std::string& path, const nlohmann::json& json) {
  std::ofstream out(path, std::ios::trunc);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> ReadField(const nlohmann::json& json, const char* field,
                            const std::string& path) {
  const auto it = json.find(field);
  if (it == json.end()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", field, "\" is missing"));
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field \"", field, "\" has the wrong type: ", e.what()));
  }
}

}  // namespace

std::string ComputeTeacherFingerprint(const TeacherArtifact& teacher) {
  Sha256Digest digest;
  for (const auto& [name, tensor] : teacher.adapter_tensors) {
    digest.Update(name);
    digest.UpdateTensor(tensor);
  }
  if (teacher.refusal_feature.defined()) digest.UpdateTensor(teacher.refusal_feature);
  digest.Update(absl::StrCat(teacher.layer, "|", teacher.lora.scaling(), "|",
                             teacher.prompt_template.text()));
  return digest.HexDigest();
}

absl::Status SaveTeacher(const std::string& folder, const TeacherArtifact& teacher) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating teacher folder ", folder, " failed: ", error.message()));
  }

  const nlohmann::json adapter_config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"r", teacher.lora.r},
      {"lora_alpha", teacher.lora.lora_alpha},
      {"lora_dropout", teacher.lora.lora_dropout},
      {"target_modules", teacher.lora.target_modules},
      {"base_model_name_or_path", teacher.lora.base_model_name_or_path},
      {"bias", "none"}};
  REFTUNE_RETURN_IF_ERROR(WriteJson(folder + "/" + kAdapterConfigFile, adapter_config));
  REFTUNE_RETURN_IF_ERROR(
      model::WriteTorchSafetensors(folder + "/" + kAdapterWeightsFile, teacher.adapter_tensors));
  REFTUNE_RETURN_IF_ERROR(model::WriteTorchSafetensors(
      folder + "/" + kRefusalFile, {{kRefusalTensor, teacher.refusal_feature}}));

  const nlohmann::json description = {{"layer", teacher.layer},
                                      {"threshold", teacher.threshold},
                                      {"prompt_template", teacher.prompt_template.ToJson()},
                                      {"end_of_answer_id", teacher.end_of_answer_id},
                                      {"fingerprint", ComputeTeacherFingerprint(teacher)},
                                      {"quality_report", teacher.quality_report}};
  return WriteJson(folder + "/" + kTeacherFile, description);
}

absl::StatusOr<TeacherArtifact> LoadTeacher(const std::string& folder) {
  TeacherArtifact teacher;
  const std::string config_path = folder + "/" + kAdapterConfigFile;
  REFTUNE_ASSIGN_OR_RETURN(nlohmann::json config, data::ReadJsonFile(config_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.lora.r, ReadField<int>(config, "r", config_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.lora.lora_alpha,
                           ReadField<double>(config, "lora_alpha", config_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.lora.target_modules,
                           ReadField<std::vector<std::string>>(config, "target_modules", config_path));
  teacher.lora.lora_dropout = config.value("lora_dropout", 0.0);
  teacher.lora.base_model_name_or_path = config.value("base_model_name_or_path", "");
  REFTUNE_RETURN_IF_ERROR(model::ValidateLoraConfig(teacher.lora));

  REFTUNE_ASSIGN_OR_RETURN(teacher.adapter_tensors,
                           model::ReadTorchSafetensors(folder + "/" + kAdapterWeightsFile));
  const std::string refusal_path = folder + "/" + kRefusalFile;
  REFTUNE_ASSIGN_OR_RETURN(auto refusal, model::ReadTorchSafetensors(refusal_path));
  const auto found = refusal.find(kRefusalTensor);
  if (found == refusal.end() || found->second.dim() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(refusal_path, ": expected a 1-D tensor \"", kRefusalTensor, "\""));
  }
  teacher.refusal_feature = found->second;

  const std::string teacher_path = folder + "/" + kTeacherFile;
  REFTUNE_ASSIGN_OR_RETURN(nlohmann::json description, data::ReadJsonFile(teacher_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.layer, ReadField<int64_t>(description, "layer", teacher_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.threshold,
                           ReadField<double>(description, "threshold", teacher_path));
  REFTUNE_ASSIGN_OR_RETURN(nlohmann::json template_json,
                           ReadField<nlohmann::json>(description, "prompt_template", teacher_path));
  REFTUNE_ASSIGN_OR_RETURN(teacher.prompt_template, data::PromptTemplate::FromJson(template_json));
  teacher.end_of_answer_id = description.value("end_of_answer_id", int64_t{2});
  teacher.quality_report = description.value("quality_report", nlohmann::json());
  teacher.fingerprint = ComputeTeacherFingerprint(teacher);
  return teacher;
}

absl::Status InstallTeacherAdapter(model::Transformer& model, const TeacherArtifact& teacher,
                                   const std::string& adapter_name) {
  if (teacher.layer < 0 || teacher.layer >= model->config().n_layers) {
    return absl::InvalidArgumentError(absl::StrCat("teacher layer ", teacher.layer,
                                                   " does not exist in a model with ",
                                                   model->config().n_layers, " blocks"));
  }
  if (teacher.refusal_feature.size(0) != model->config().dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "teacher refusal feature has width ", teacher.refusal_feature.size(0),
        " but the model's dim is ", model->config().dim, "; use the teacher's base model"));
  }
  return model->ImportAdapter(adapter_name, teacher.lora, teacher.adapter_tensors);
}

}  // namespace reftune::method
