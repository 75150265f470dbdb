// LoRA adapter folders in the PEFT layout, which PEFT's PeftModel.from_pretrained and vLLM's
// LoRA loader read: adapter_config.json and adapter_model.safetensors.
#ifndef REFTUNE_CORE_MODEL_ADAPTER_IO_H_
#define REFTUNE_CORE_MODEL_ADAPTER_IO_H_

#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/config.h"
#include "core/model/lora_config.h"
#include "nlohmann/json.hpp"

namespace reftune::model {

inline constexpr char kAdapterConfigFile[] = "adapter_config.json";
inline constexpr char kAdapterWeightsFile[] = "adapter_model.safetensors";
// reftune's own settings (prompt template, teacher layer, ...). They stay out of
// adapter_config.json, because PEFT passes every key of that file to LoraConfig's constructor.
inline constexpr char kAdapterMetadataFile[] = "reftune.json";

// An adapter as stored in a folder.
struct AdapterFiles {
  LoraConfig config;
  // float32 CPU tensors keyed by PEFT names:
  // base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight ([r, in_features]) and
  // ...lora_B.weight ([out_features, r]) for every targeted projection of every layer.
  std::map<std::string, torch::Tensor> tensors;
  // Contents of reftune.json; null when the folder has none.
  nlohmann::json metadata;
};

// Writes `adapter` to `folder`, which is created if needed. The files are adapter_config.json
// (peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, lora_dropout, target_modules,
// base_model_name_or_path, bias "none", fan_in_fan_out false, inference_mode true),
// adapter_model.safetensors in F32, and reftune.json unless adapter.metadata is null. Existing
// files of those names are replaced. Key names and shapes are checked against `model` before
// anything is written, so a malformed adapter never reaches the disk.
absl::Status SaveAdapter(const std::string& folder, const AdapterFiles& adapter,
                         const ModelConfig& model);

// Reads an adapter folder written by SaveAdapter or by PEFT and validates it against `model`:
// peft_type LORA, bias none, known target_modules, and exactly the lora_A [r, in] and lora_B
// [out, r] tensors of every targeted projection of every layer. PEFT files that store
// F16 or BF16 load as float32. Errors name the file, the key and the expected shape.
absl::StatusOr<AdapterFiles> LoadAdapter(const std::string& folder, const ModelConfig& model);

// Checks that `tensors` contains exactly the PEFT keys that `config` implies for `model`, with
// lora_A [r, in_features] and lora_B [out_features, r]. `source` names the tensors' origin in
// error messages.
absl::Status CheckPeftAdapterTensors(const std::map<std::string, torch::Tensor>& tensors,
                                     const LoraConfig& config, const ModelConfig& model,
                                     const std::string& source);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_ADAPTER_IO_H_
