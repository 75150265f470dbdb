#include "core/model/hf_config.h"

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "nlohmann/json.hpp"

namespace reftune::model {
namespace {

// Reads config.json fields with the file named in every error.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& json, const std::string& source)
      : json_(json), source_(source) {}

  // Reads an integer field that must be at least `min`; `fallback` applies when it is absent.
  absl::StatusOr<int64_t> Integer(const std::string& key, std::optional<int64_t> fallback,
                                  int64_t min) const {
    if (!json_.contains(key) || json_[key].is_null()) {
      if (fallback.has_value()) return *fallback;
      return Invalid(key, "is missing; expected an integer >= " + std::to_string(min));
    }
    const nlohmann::json& value = json_[key];
    if (!value.is_number_integer() || value.get<int64_t>() < min) {
      return Invalid(key, absl::StrCat("must be an integer >= ", min, ", got ", value.dump()));
    }
    return value.get<int64_t>();
  }

  absl::StatusOr<double> PositiveNumber(const std::string& key, double fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    const nlohmann::json& value = json_[key];
    if (!value.is_number() || value.get<double>() <= 0) {
      return Invalid(key, absl::StrCat("must be a positive number, got ", value.dump()));
    }
    return value.get<double>();
  }

  absl::StatusOr<bool> Boolean(const std::string& key, bool fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_boolean()) {
      return Invalid(key, absl::StrCat("must be true or false, got ", json_[key].dump()));
    }
    return json_[key].get<bool>();
  }

  // Reads a token id that may also be a list of ids (the first one counts).
  absl::StatusOr<int64_t> TokenId(const std::string& key, int64_t fallback) const {
    if (json_.contains(key) && json_[key].is_array()) {
      if (json_[key].empty() || !json_[key][0].is_number_integer()) {
        return Invalid(key, absl::StrCat("must be a token id or a list of token ids, got ",
                                         json_[key].dump()));
      }
      return json_[key][0].get<int64_t>();
    }
    return Integer(key, fallback, 0);
  }

  absl::Status Invalid(const std::string& key, const std::string& problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json ", source_, ": field ", key, " ", problem));
  }

 private:
  const nlohmann::json& json_;
  const std::string& source_;
};

// Rejects settings that reftune's Llama implementation does not compute.
absl::Status CheckSupportedArchitecture(const nlohmann::json& json, const ConfigReader& reader) {
  const std::string model_type = json.value("model_type", std::string());
  if (model_type != "llama") {
    return reader.Invalid("model_type", absl::StrCat("is \"", model_type,
                                                     "\"; reftune supports only \"llama\""));
  }
  if (json.contains("rope_scaling") && !json["rope_scaling"].is_null()) {
    return reader.Invalid("rope_scaling",
                          absl::StrCat("is ", json["rope_scaling"].dump(),
                                       "; reftune supports only unscaled rotary embeddings "
                                       "(rope_scaling null)"));
  }
  if (json.value("hidden_act", std::string("silu")) != "silu") {
    return reader.Invalid("hidden_act", absl::StrCat("is ", json["hidden_act"].dump(),
                                                     "; reftune supports only \"silu\""));
  }
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    REFTUNE_ASSIGN_OR_RETURN(const bool bias, reader.Boolean(key, false));
    if (bias) return reader.Invalid(key, "is true; reftune supports only bias-free projections");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> ParseHuggingFaceConfig(const std::string& json_text,
                                                   const std::string& source) {
  const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json ", source, " is not a JSON object"));
  }
  const ConfigReader reader(json, source);
  REFTUNE_RETURN_IF_ERROR(CheckSupportedArchitecture(json, reader));

  ModelConfig config;
  REFTUNE_ASSIGN_OR_RETURN(config.dim, reader.Integer("hidden_size", std::nullopt, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.hidden_dim,
                           reader.Integer("intermediate_size", std::nullopt, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.n_layers, reader.Integer("num_hidden_layers", std::nullopt, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.n_heads, reader.Integer("num_attention_heads", std::nullopt, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.n_kv_heads,
                           reader.Integer("num_key_value_heads", config.n_heads, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.vocab_size, reader.Integer("vocab_size", std::nullopt, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.max_seq_len,
                           reader.Integer("max_position_embeddings", 2048, 1));
  REFTUNE_ASSIGN_OR_RETURN(config.norm_eps, reader.PositiveNumber("rms_norm_eps", 1e-6));
  REFTUNE_ASSIGN_OR_RETURN(config.rope_theta, reader.PositiveNumber("rope_theta", 10000.0));
  REFTUNE_ASSIGN_OR_RETURN(config.tied_embeddings, reader.Boolean("tie_word_embeddings", false));
  REFTUNE_ASSIGN_OR_RETURN(config.bos_id, reader.TokenId("bos_token_id", 1));
  REFTUNE_ASSIGN_OR_RETURN(config.eos_id, reader.TokenId("eos_token_id", 2));
  REFTUNE_ASSIGN_OR_RETURN(config.end_of_answer_id,
                           reader.TokenId(kEndOfAnswerConfigKey, config.eos_id));
  config.rope_style = RopeStyle::kHalf;

  // Shapes that the attention layout needs.
  if (config.dim % config.n_heads != 0 || config.head_dim() % 2 != 0) {
    return reader.Invalid(
        "hidden_size", absl::StrCat(config.dim, " must split into num_attention_heads ",
                                    config.n_heads, " heads of an even size"));
  }
  if (config.n_heads % config.n_kv_heads != 0) {
    return reader.Invalid("num_key_value_heads",
                          absl::StrCat(config.n_kv_heads, " must divide num_attention_heads ",
                                       config.n_heads));
  }
  if (json.contains("head_dim") && json["head_dim"] != config.head_dim()) {
    return reader.Invalid("head_dim", absl::StrCat(json["head_dim"].dump(),
                                                   " differs from hidden_size / "
                                                   "num_attention_heads = ",
                                                   config.head_dim()));
  }
  return config;
}

std::string HuggingFaceConfigJson(const ModelConfig& config) {
  const nlohmann::json json = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_act", "silu"},
      {"hidden_size", config.dim},
      {"intermediate_size", config.hidden_dim},
      {"num_hidden_layers", config.n_layers},
      {"num_attention_heads", config.n_heads},
      {"num_key_value_heads", config.n_kv_heads},
      {"vocab_size", config.vocab_size},
      {"max_position_embeddings", config.max_seq_len},
      {"rms_norm_eps", config.norm_eps},
      {"rope_theta", config.rope_theta},
      {"rope_scaling", nullptr},
      {"attention_bias", false},
      {"tie_word_embeddings", config.tied_embeddings},
      {"bos_token_id", config.bos_id},
      {"eos_token_id", config.eos_id},
      {kEndOfAnswerConfigKey, config.end_of_answer_id},
      {"torch_dtype", "float32"},
  };
  return json.dump(2) + "\n";
}

std::map<std::string, std::vector<int64_t>> HuggingFaceWeightShapes(const ModelConfig& config) {
  std::map<std::string, std::vector<int64_t>> shapes;
  shapes["model.embed_tokens.weight"] = {config.vocab_size, config.dim};
  shapes["model.norm.weight"] = {config.dim};
  if (!config.tied_embeddings) shapes["lm_head.weight"] = {config.vocab_size, config.dim};
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    const std::string prefix = absl::StrCat("model.layers.", layer, ".");
    shapes[prefix + "input_layernorm.weight"] = {config.dim};
    shapes[prefix + "post_attention_layernorm.weight"] = {config.dim};
    for (const char* module : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                               "down_proj"}) {
      const LlamaProjection projection = *FindLlamaProjection(config, module);
      shapes[prefix + projection.path + ".weight"] = {projection.out_features,
                                                      projection.in_features};
    }
  }
  return shapes;
}

absl::StatusOr<LlamaProjection> FindLlamaProjection(const ModelConfig& config,
                                                    const std::string& module) {
  const int64_t q_rows = config.n_heads * config.head_dim();
  const int64_t kv_rows = config.n_kv_heads * config.head_dim();
  if (module == "q_proj") return LlamaProjection{"self_attn.q_proj", q_rows, config.dim};
  if (module == "k_proj") return LlamaProjection{"self_attn.k_proj", kv_rows, config.dim};
  if (module == "v_proj") return LlamaProjection{"self_attn.v_proj", kv_rows, config.dim};
  if (module == "o_proj") return LlamaProjection{"self_attn.o_proj", config.dim, q_rows};
  if (module == "gate_proj") {
    return LlamaProjection{"mlp.gate_proj", config.hidden_dim, config.dim};
  }
  if (module == "up_proj") return LlamaProjection{"mlp.up_proj", config.hidden_dim, config.dim};
  if (module == "down_proj") {
    return LlamaProjection{"mlp.down_proj", config.dim, config.hidden_dim};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown Llama projection ", module,
      "; expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj"));
}

}  // namespace reftune::model
