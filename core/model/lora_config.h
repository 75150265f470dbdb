// LoRA adapter settings, named as in PEFT's LoraConfig.
#ifndef REFTUNE_CORE_MODEL_LORA_CONFIG_H_
#define REFTUNE_CORE_MODEL_LORA_CONFIG_H_

#include <string>
#include <vector>

namespace reftune::model {

struct LoraConfig {
  // Rank of the update B A.
  int r = 16;
  // The update is scaled by lora_alpha / r.
  double lora_alpha = 32.0;
  // Dropout probability on the adapter's input during training; 0 disables it.
  double lora_dropout = 0.0;
  // Projections that get an adapter, by their Hugging Face Llama names: any of q_proj, k_proj,
  // v_proj, o_proj, gate_proj, up_proj, down_proj.
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
  // Written to adapter_config.json so that PEFT and vLLM know which base the adapter belongs to.
  std::string base_model_name_or_path;

  double scaling() const { return lora_alpha / r; }
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_LORA_CONFIG_H_
