// config.json of Hugging Face Llama folders.
#ifndef REFTUNE_CORE_MODEL_HF_CONFIG_H_
#define REFTUNE_CORE_MODEL_HF_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/config.h"

namespace reftune::model {

// The config.json key under which reftune stores ModelConfig::end_of_answer_id. Hugging Face
// loaders ignore unknown keys.
inline constexpr char kEndOfAnswerConfigKey[] = "reftune_end_of_answer_token_id";

// Parses a Llama config.json. The fields read, with the defaults of transformers' LlamaConfig
// where one applies: hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
// num_key_value_heads (num_attention_heads), max_position_embeddings (2048), rms_norm_eps (1e-6),
// rope_theta (10000), tie_word_embeddings (false), bos_token_id (1) and eos_token_id (2, or the
// first entry of a list). end_of_answer_id comes from kEndOfAnswerConfigKey, else eos_token_id.
// rope_style is kHalf. Returns INVALID_ARGUMENT, naming `source` and the field, for a model_type
// other than "llama", a rope_scaling, attention or MLP biases, an activation other than silu,
// and missing or invalid sizes.
absl::StatusOr<ModelConfig> ParseHuggingFaceConfig(const std::string& json_text,
                                                   const std::string& source);

// Returns the config.json text for `config` (model_type llama, rope_scaling null, torch_dtype
// float32), including kEndOfAnswerConfigKey.
std::string HuggingFaceConfigJson(const ModelConfig& config);

// Returns the shape of every base weight of a Llama model under its Hugging Face name:
// model.embed_tokens.weight, model.layers.{i}.*, model.norm.weight and, unless
// config.tied_embeddings, lm_head.weight.
std::map<std::string, std::vector<int64_t>> HuggingFaceWeightShapes(const ModelConfig& config);

// A LoRA-targetable projection of a Llama block.
struct LlamaProjection {
  // Path inside a block, e.g. "self_attn.q_proj" or "mlp.down_proj".
  std::string path;
  int64_t out_features = 0;
  int64_t in_features = 0;
};

// Returns the projection called `module` (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or
// down_proj). Returns INVALID_ARGUMENT naming the module for any other name.
absl::StatusOr<LlamaProjection> FindLlamaProjection(const ModelConfig& config,
                                                    const std::string& module);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_HF_CONFIG_H_
