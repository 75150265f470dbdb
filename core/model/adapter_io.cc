#include "core/model/adapter_io.h"

#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/model/file_bytes.h"
#include "core/model/hf_config.h"
#include "core/model/safetensors_torch.h"
#include "core/model/transformer.h"

namespace reftune::model {
namespace {

namespace fs = std::filesystem;

std::string ShapeString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// The PEFT key and expected shape of every adapter matrix that `config` implies for `model`.
absl::StatusOr<std::map<std::string, std::vector<int64_t>>> ExpectedAdapterShapes(
    const LoraConfig& config, const ModelConfig& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const std::string& module : config.target_modules) {
    REFTUNE_ASSIGN_OR_RETURN(const LlamaProjection projection,
                             FindLlamaProjection(model, module));
    for (int64_t layer = 0; layer < model.n_layers; ++layer) {
      shapes[PeftAdapterKey(layer, projection.path, 'A')] = {config.r, projection.in_features};
      shapes[PeftAdapterKey(layer, projection.path, 'B')] = {projection.out_features, config.r};
    }
  }
  return shapes;
}

nlohmann::json AdapterConfigJson(const LoraConfig& config) {
  return {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"r", config.r},
      {"lora_alpha", config.lora_alpha},
      {"lora_dropout", config.lora_dropout},
      {"target_modules", config.target_modules},
      {"base_model_name_or_path", config.base_model_name_or_path},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr},
      {"init_lora_weights", true},
      {"revision", nullptr},
  };
}

// Reads the fields of adapter_config.json that reftune uses and rejects PEFT options whose
// computation reftune does not implement.
absl::StatusOr<LoraConfig> ParseAdapterConfig(const nlohmann::json& json,
                                              const std::string& source) {
  auto invalid = [&source](const std::string& key, const std::string& problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter config ", source, ": field ", key, " ", problem));
  };
  if (!json.is_object()) return invalid("(root)", "must be a JSON object");
  if (json.value("peft_type", std::string()) != "LORA") {
    return invalid("peft_type", absl::StrCat("is ", json.value("peft_type", nlohmann::json()).dump(),
                                             "; expected \"LORA\""));
  }

  LoraConfig config;
  if (!json.contains("r") || !json["r"].is_number_integer() || json["r"].get<int>() < 1) {
    return invalid("r", absl::StrCat("must be an integer >= 1, got ",
                                     json.value("r", nlohmann::json()).dump()));
  }
  config.r = json["r"].get<int>();
  if (!json.contains("lora_alpha") || !json["lora_alpha"].is_number() ||
      json["lora_alpha"].get<double>() <= 0) {
    return invalid("lora_alpha", absl::StrCat("must be a positive number, got ",
                                              json.value("lora_alpha", nlohmann::json()).dump()));
  }
  config.lora_alpha = json["lora_alpha"].get<double>();
  const nlohmann::json dropout = json.value("lora_dropout", nlohmann::json(0.0));
  if (!dropout.is_number() || dropout.get<double>() < 0 || dropout.get<double>() >= 1) {
    return invalid("lora_dropout", absl::StrCat("must be in [0, 1), got ", dropout.dump()));
  }
  config.lora_dropout = dropout.get<double>();

  const nlohmann::json targets = json.value("target_modules", nlohmann::json());
  if (!targets.is_array() || targets.empty()) {
    return invalid("target_modules",
                   absl::StrCat("must be a non-empty list of module names such as q_proj, got ",
                                targets.dump(), " (regular expressions are not supported)"));
  }
  config.target_modules.clear();
  for (const nlohmann::json& target : targets) {
    if (!target.is_string()) {
      return invalid("target_modules", absl::StrCat("has a non-string entry ", target.dump()));
    }
    config.target_modules.push_back(target.get<std::string>());
  }
  const nlohmann::json base = json.value("base_model_name_or_path", nlohmann::json());
  if (base.is_string()) config.base_model_name_or_path = base.get<std::string>();

  // Options that change what the adapter computes.
  if (json.value("bias", std::string("none")) != "none") {
    return invalid("bias", absl::StrCat("is ", json["bias"].dump(), "; reftune supports \"none\""));
  }
  for (const char* key : {"fan_in_fan_out", "use_rslora", "use_dora"}) {
    if (json.value(key, false)) return invalid(key, "is true; reftune supports only false");
  }
  for (const char* key : {"modules_to_save", "layers_to_transform"}) {
    if (json.contains(key) && !json[key].is_null()) {
      return invalid(key, absl::StrCat("is ", json[key].dump(), "; reftune supports only null"));
    }
  }
  return config;
}

}  // namespace

absl::Status CheckPeftAdapterTensors(const std::map<std::string, torch::Tensor>& tensors,
                                     const LoraConfig& config, const ModelConfig& model,
                                     const std::string& source) {
  REFTUNE_ASSIGN_OR_RETURN(const auto expected, ExpectedAdapterShapes(config, model));
  for (const auto& [key, shape] : expected) {
    const auto found = tensors.find(key);
    if (found == tensors.end() || !found->second.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(source, " has no tensor ", key,
                                                      "; expected shape ", ShapeString(shape)));
    }
    if (found->second.sizes().vec() != shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": tensor ", key, " has shape ", ShapeString(found->second.sizes()),
          "; expected ", ShapeString(shape), " for r ", config.r));
    }
    if (!found->second.is_floating_point()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tensor ", key,
                                                      " must be floating point"));
    }
  }
  for (const auto& [key, tensor] : tensors) {
    if (expected.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " has tensor ", key, ", which is no LoRA matrix of target_modules [",
          absl::StrJoin(config.target_modules, ", "), "] of a ", model.n_layers,
          "-layer model"));
    }
  }
  return absl::OkStatus();
}

absl::Status SaveAdapter(const std::string& folder, const AdapterFiles& adapter,
                         const ModelConfig& model) {
  REFTUNE_RETURN_IF_ERROR(ValidateLoraConfig(adapter.config));
  REFTUNE_RETURN_IF_ERROR(
      CheckPeftAdapterTensors(adapter.tensors, adapter.config, model, "adapter to save"));

  const fs::path root(folder);
  std::error_code error;
  fs::create_directories(root, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create adapter folder ", folder, ": ", error.message()));
  }
  REFTUNE_RETURN_IF_ERROR(WriteFileBytes((root / kAdapterConfigFile).string(),
                                         AdapterConfigJson(adapter.config).dump(2) + "\n",
                                         "adapter config"));
  REFTUNE_RETURN_IF_ERROR(WriteTorchSafetensors((root / kAdapterWeightsFile).string(),
                                                adapter.tensors, SafetensorsDtype::kF32,
                                                {{"format", "pt"}}));

  // reftune.json, or no file, so that metadata of an earlier save never lingers.
  const fs::path metadata_path = root / kAdapterMetadataFile;
  if (adapter.metadata.is_null()) {
    fs::remove(metadata_path, error);
    return absl::OkStatus();
  }
  return WriteFileBytes(metadata_path.string(), adapter.metadata.dump(2) + "\n",
                        "adapter metadata");
}

absl::StatusOr<AdapterFiles> LoadAdapter(const std::string& folder, const ModelConfig& model) {
  const fs::path root(folder);
  AdapterFiles adapter;

  const std::string config_path = (root / kAdapterConfigFile).string();
  REFTUNE_ASSIGN_OR_RETURN(const std::string config_text,
                           ReadFileBytes(config_path, "adapter config"));
  const nlohmann::json config_json = nlohmann::json::parse(config_text, nullptr, false);
  if (config_json.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter config ", config_path, " is not valid JSON"));
  }
  REFTUNE_ASSIGN_OR_RETURN(adapter.config, ParseAdapterConfig(config_json, config_path));

  const fs::path weights_path = root / kAdapterWeightsFile;
  if (!fs::exists(weights_path) && fs::exists(root / "adapter_model.bin")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter folder ", folder, " has adapter_model.bin (a pickle) but no ",
        kAdapterWeightsFile, "; save the adapter with PEFT's safe_serialization=True"));
  }
  REFTUNE_ASSIGN_OR_RETURN(adapter.tensors, ReadTorchSafetensors(weights_path.string()));
  REFTUNE_RETURN_IF_ERROR(CheckPeftAdapterTensors(adapter.tensors, adapter.config, model,
                                                  weights_path.string()));

  const fs::path metadata_path = root / kAdapterMetadataFile;
  if (fs::exists(metadata_path)) {
    REFTUNE_ASSIGN_OR_RETURN(const std::string text,
                             ReadFileBytes(metadata_path.string(), "adapter metadata"));
    adapter.metadata = nlohmann::json::parse(text, nullptr, false);
    if (adapter.metadata.is_discarded()) {
      return absl::InvalidArgumentError(
          absl::StrCat("adapter metadata ", metadata_path.string(), " is not valid JSON"));
    }
  }
  return adapter;
}

}  // namespace reftune::model
