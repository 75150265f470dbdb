#include "services/filter/base_model_spec.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reftune::filter {
namespace {

constexpr char kLlama2c[] = "llama2c";
constexpr char kHuggingFace[] = "huggingface";

std::string NormalizedFormat(const std::string& format) {
  return format == "hf_llama" ? kHuggingFace : format;
}

std::string ResolvePath(const std::string& path, const std::string& base_folder) {
  if (path.empty() || base_folder.empty() || std::filesystem::path(path).is_absolute()) {
    return path;
  }
  return (std::filesystem::path(base_folder) / path).lexically_normal().string();
}

}  // namespace

std::string BaseModelSpec::Key() const {
  const std::string answer_end =
      end_of_answer_id.has_value() ? absl::StrCat(*end_of_answer_id) : "default";
  return absl::StrCat(NormalizedFormat(format), "|", path, "|", tokenizer_path, "|", answer_end);
}

absl::Status ValidateBaseModelSpec(const BaseModelSpec& spec) {
  const std::string format = NormalizedFormat(spec.format);
  if (format != kLlama2c && format != kHuggingFace) {
    return absl::InvalidArgumentError(absl::StrCat("base model \"", spec.name, "\": format \"",
                                                   spec.format,
                                                   "\" is unknown; use llama2c or huggingface"));
  }
  if (spec.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("base model \"", spec.name, "\": path is empty; set the model file or folder"));
  }
  if (format == kLlama2c && spec.tokenizer_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base model \"", spec.name, "\": tokenizer_path is empty; llama2c models need tokenizer.bin"));
  }
  if (spec.end_of_answer_id.has_value() && *spec.end_of_answer_id < 0) {
    return absl::InvalidArgumentError(absl::StrCat("base model \"", spec.name,
                                                   "\": end_of_answer_token_id must be >= 0, got ",
                                                   *spec.end_of_answer_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<BaseModelSpec> BaseModelSpecFromJson(const nlohmann::json& json,
                                                    const std::string& source,
                                                    const std::string& base_folder) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
  }
  BaseModelSpec spec;
  try {
    spec.name = json.value("name", "");
    spec.format = json.value("format", "");
    spec.path = ResolvePath(json.value("path", ""), base_folder);
    spec.tokenizer_path = ResolvePath(json.value("tokenizer_path", ""), base_folder);
    if (json.contains("end_of_answer_token_id")) {
      spec.end_of_answer_id = json.at("end_of_answer_token_id").get<int64_t>();
    }
    spec.prompt_template = json.value("prompt_template", "");
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": a field has the wrong type: ", e.what()));
  }
  if (absl::Status status = ValidateBaseModelSpec(spec); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", status.message()));
  }
  return spec;
}

absl::StatusOr<model::Checkpoint> LoadBaseCheckpoint(const BaseModelSpec& spec) {
  if (absl::Status status = ValidateBaseModelSpec(spec); !status.ok()) return status;

  absl::StatusOr<model::Checkpoint> checkpoint =
      NormalizedFormat(spec.format) == kLlama2c
          ? model::LoadLlama2cCheckpoint(spec.path, spec.tokenizer_path)
          : model::LoadHuggingFaceCheckpoint(spec.path);
  if (!checkpoint.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "loading base model \"", spec.name, "\" failed: ", checkpoint.status().message()));
  }
  if (checkpoint->tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("base model \"", spec.name, "\" at ", spec.path, " has no tokenizer"));
  }
  if (spec.end_of_answer_id.has_value()) {
    if (*spec.end_of_answer_id >= checkpoint->config.vocab_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "base model \"", spec.name, "\": end_of_answer_token_id ", *spec.end_of_answer_id,
          " is outside the vocabulary of ", checkpoint->config.vocab_size, " tokens"));
    }
    checkpoint->config.end_of_answer_id = *spec.end_of_answer_id;
  }
  return checkpoint;
}

}  // namespace reftune::filter
