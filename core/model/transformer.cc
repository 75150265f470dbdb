#include "core/model/transformer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"

namespace reftune::model {
namespace {

// Added to the attention scores of masked keys. Finite, so a query whose keys are all masked
// (a left-padding slot) gets a uniform row instead of NaN; exp() of it still underflows to 0.
constexpr double kMaskedScore = -1e9;

std::string ShapeString(const torch::Tensor& tensor) {
  return absl::StrCat("[", absl::StrJoin(tensor.sizes().vec(), ", "), "]");
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& config) {
  const std::pair<const char*, int64_t> positive[] = {
      {"dim", config.dim},           {"hidden_dim", config.hidden_dim},
      {"n_layers", config.n_layers}, {"n_heads", config.n_heads},
      {"n_kv_heads", config.n_kv_heads}, {"vocab_size", config.vocab_size},
      {"max_seq_len", config.max_seq_len}};
  for (const auto& [field, value] : positive) {
    if (value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config ", field, " must be positive, got ", value));
    }
  }
  if (config.dim % config.n_heads != 0 || config.head_dim() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config dim must be n_heads times an even head_dim, got dim ", config.dim,
        " and n_heads ", config.n_heads));
  }
  if (config.n_heads % config.n_kv_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config n_heads must be a multiple of n_kv_heads, got n_heads ",
                     config.n_heads, " and n_kv_heads ", config.n_kv_heads));
  }
  if (config.norm_eps <= 0 || config.rope_theta <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config norm_eps and rope_theta must be positive, got ",
                     config.norm_eps, " and ", config.rope_theta));
  }
  return absl::OkStatus();
}

TransformerImpl::TransformerImpl(TransformerOptions options) : options_(std::move(options)) {
  reset();
}

void TransformerImpl::reset() {
  const ModelConfig& config = options_.config;
  adapters_.clear();
  embed_tokens = register_parameter(
      "embed_tokens", torch::randn({config.vocab_size, config.dim}) * 0.02, false);
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    blocks->push_back(TransformerBlock(config));
  }
  norm = register_parameter("norm", torch::ones({config.dim}), false);
  if (!config.tied_embeddings) {
    lm_head = register_parameter(
        "lm_head", torch::randn({config.vocab_size, config.dim}) * 0.02, false);
  }
  rotary_ = RotaryEmbedding(config.head_dim(), config.max_seq_len, config.rope_theta,
                            config.rope_style, options_.device);
  to(options_.device);
}

TransformerBlock TransformerImpl::Block(int64_t layer) const {
  return blocks->ptr<TransformerBlockImpl>(layer);
}

std::map<std::string, torch::Tensor> TransformerImpl::NamedBaseWeights() const {
  std::map<std::string, torch::Tensor> weights;
  weights["model.embed_tokens.weight"] = embed_tokens;
  weights["model.norm.weight"] = norm;
  if (lm_head.defined()) weights["lm_head.weight"] = lm_head;
  for (int64_t layer = 0; layer < config().n_layers; ++layer) {
    TransformerBlock block = Block(layer);
    const std::string prefix = absl::StrCat("model.layers.", layer, ".");
    weights[prefix + "input_layernorm.weight"] = block->input_layernorm;
    weights[prefix + "post_attention_layernorm.weight"] = block->post_attention_layernorm;
    for (const auto& [path, projection] : block->Projections()) {
      weights[absl::StrCat(prefix, path, ".weight")] = projection->weight;
    }
  }
  return weights;
}

int64_t TransformerImpl::BaseParameterCount() const {
  int64_t count = 0;
  for (const auto& [name, tensor] : NamedBaseWeights()) count += tensor.numel();
  return count;
}

absl::Status TransformerImpl::LoadWeights(const std::map<std::string, torch::Tensor>& weights) {
  std::map<std::string, torch::Tensor> expected = NamedBaseWeights();
  for (const auto& [name, tensor] : weights) {
    if (expected.count(name) == 0 && !absl::EndsWith(name, "rotary_emb.inv_freq")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected tensor ", name, " ", ShapeString(tensor), " for a model with n_layers ",
          config().n_layers, " and tied_embeddings ", config().tied_embeddings));
    }
  }

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : expected) {
    auto it = weights.find(name);
    if (it == weights.end()) {
      return absl::InvalidArgumentError(absl::StrCat("missing tensor ", name, ", expected shape ",
                                                     ShapeString(target)));
    }
    if (!it->second.sizes().equals(target.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has shape ",
                                                     ShapeString(it->second), ", expected ",
                                                     ShapeString(target)));
    }
    target.copy_(it->second);
  }
  return absl::OkStatus();
}

KvCache TransformerImpl::NewKvCache(int64_t batch, int64_t capacity) const {
  const ModelConfig& config = options_.config;
  auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(options_.device);
  KvCache cache;
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    cache.keys.push_back(
        torch::zeros({batch, config.n_kv_heads, capacity, config.head_dim()}, float_options));
    cache.values.push_back(torch::zeros_like(cache.keys.back()));
  }
  cache.key_mask = torch::zeros({batch, capacity}, float_options.dtype(torch::kBool));
  cache.next_positions = torch::zeros({batch}, float_options.dtype(torch::kInt64));
  return cache;
}

absl::Status TransformerImpl::ValidateForwardInputs(const torch::Tensor& input_ids,
                                                    const torch::Tensor& attention_mask,
                                                    const ForwardOptions& options,
                                                    const KvCache* cache) const {
  const ModelConfig& config = options_.config;
  if (!input_ids.defined() || input_ids.dim() != 2 || input_ids.size(1) == 0 ||
      input_ids.size(0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input_ids must be a non-empty [batch, seq] tensor, got ",
        input_ids.defined() ? ShapeString(input_ids) : std::string("an undefined tensor")));
  }
  const int64_t min_id = input_ids.min().item<int64_t>();
  const int64_t max_id = input_ids.max().item<int64_t>();
  if (min_id < 0 || max_id >= config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("input_ids must be in [0, ", config.vocab_size,
                                                   "), got values from ", min_id, " to ", max_id));
  }
  if (attention_mask.defined() && !attention_mask.sizes().equals(input_ids.sizes())) {
    return absl::InvalidArgumentError(absl::StrCat("attention_mask shape ",
                                                   ShapeString(attention_mask),
                                                   " must equal input_ids shape ",
                                                   ShapeString(input_ids)));
  }
  if (!options.adapter.empty() && adapters_.count(options.adapter) == 0) {
    return absl::NotFoundError(absl::StrCat("adapter \"", options.adapter,
                                            "\" not found; add or import it first"));
  }
  for (int64_t layer : options.hidden_layers) {
    if (layer < 0 || layer >= config.n_layers) {
      return absl::InvalidArgumentError(absl::StrCat("hidden layer must be in [0, ",
                                                     config.n_layers, "), got ", layer));
    }
  }
  if (!options.compute_logits && options.hidden_layers.empty()) {
    return absl::InvalidArgumentError(
        "forward with compute_logits false needs at least one hidden layer");
  }

  const int64_t seq = input_ids.size(1);
  int64_t longest = seq;
  if (cache != nullptr) {
    if (cache->key_mask.size(0) != input_ids.size(0)) {
      return absl::InvalidArgumentError(absl::StrCat("KV cache batch ", cache->key_mask.size(0),
                                                     " differs from input batch ",
                                                     input_ids.size(0)));
    }
    if (cache->length + seq > cache->capacity()) {
      return absl::OutOfRangeError(absl::StrCat("KV cache capacity is ", cache->capacity(),
                                                " tokens with ", cache->length, " used, but ", seq,
                                                " more were requested"));
    }
    longest = cache->length + seq;
  }
  if (longest > config.max_seq_len) {
    return absl::OutOfRangeError(absl::StrCat("sequence of ", longest,
                                              " tokens exceeds the model's max_seq_len ",
                                              config.max_seq_len));
  }
  return absl::OkStatus();
}

absl::StatusOr<ForwardOutput> TransformerImpl::Forward(const torch::Tensor& input_ids,
                                                       const torch::Tensor& attention_mask,
                                                       const ForwardOptions& options,
                                                       KvCache* cache) {
  try {
    auto status = ValidateForwardInputs(input_ids, attention_mask, options, cache);
    if (!status.ok()) return status;
    return RunForward(input_ids, attention_mask, options, cache);
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat("transformer forward on input ",
                                            ShapeString(input_ids), " failed: ",
                                            error.what_without_backtrace()));
  }
}

ForwardOutput TransformerImpl::RunForward(const torch::Tensor& input_ids,
                                          const torch::Tensor& attention_mask,
                                          const ForwardOptions& options, KvCache* cache) {
  const ModelConfig& config = options_.config;
  const int64_t batch = input_ids.size(0);
  const int64_t seq = input_ids.size(1);
  torch::Tensor ids = input_ids.to(options_.device, torch::kInt64);

  // Each sequence's positions count its real tokens, so left padding shifts nothing.
  torch::Tensor mask = attention_mask.defined()
                           ? attention_mask.to(options_.device).ne(0)
                           : torch::ones({batch, seq}, ids.options().dtype(torch::kBool));
  torch::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  torch::Tensor key_mask = mask;
  int64_t offset = 0;
  if (cache != nullptr) {
    offset = cache->length;
    positions = positions + cache->next_positions.unsqueeze(1);
    cache->key_mask.narrow(1, offset, seq).copy_(mask);
    key_mask = cache->key_mask.narrow(1, 0, offset + seq);
  }
  const int64_t keys = offset + seq;

  // Query i (slot offset + i) may attend to key slot j <= offset + i that contains a real token.
  torch::Tensor causal = torch::ones({seq, keys}, mask.options()).tril(offset);
  torch::Tensor allowed = causal.unsqueeze(0).logical_and(key_mask.unsqueeze(1));
  torch::Tensor bias =
      torch::zeros({batch, seq, keys}, embed_tokens.options().requires_grad(false))
          .masked_fill_(allowed.logical_not(), kMaskedScore)
          .view({batch, 1, 1, seq, keys});

  AttentionInputs inputs;
  inputs.batch = batch;
  inputs.seq = seq;
  std::tie(inputs.cos, inputs.sin) = rotary_.Lookup(positions);
  inputs.bias = bias;
  inputs.rotary = &rotary_;

  int64_t last_layer = config.n_layers - 1;
  if (!options.compute_logits) {
    last_layer = *std::max_element(options.hidden_layers.begin(), options.hidden_layers.end());
  }

  ForwardOutput output;
  output.hidden_states.resize(options.hidden_layers.size());
  torch::Tensor hidden = torch::embedding(embed_tokens, ids).view({batch * seq, config.dim});
  for (int64_t layer = 0; layer <= last_layer; ++layer) {
    LayerCache layer_cache;
    LayerCache* layer_cache_ptr = nullptr;
    if (cache != nullptr) {
      layer_cache = {cache->keys[layer], cache->values[layer], offset};
      layer_cache_ptr = &layer_cache;
    }
    hidden = Block(layer)->forward(hidden, inputs, options, layer_cache_ptr);
    for (size_t i = 0; i < options.hidden_layers.size(); ++i) {
      if (options.hidden_layers[i] == layer) {
        output.hidden_states[i] = hidden.view({batch, seq, config.dim});
      }
    }
  }

  if (cache != nullptr) {
    cache->length += seq;
    cache->next_positions.add_(mask.sum(1));
  }
  if (!options.compute_logits) return output;

  const torch::Tensor& head = lm_head.defined() ? lm_head : embed_tokens;
  if (options.last_position_logits_only) {
    torch::Tensor last = hidden.view({batch, seq, config.dim}).select(1, seq - 1);
    output.logits = torch::mm(RmsNorm(last, norm, config.norm_eps), head.t())
                        .view({batch, 1, config.vocab_size});
  } else {
    output.logits = torch::mm(RmsNorm(hidden, norm, config.norm_eps), head.t())
                        .view({batch, seq, config.vocab_size});
  }
  return output;
}

torch::Tensor SelectLastTokens(const torch::Tensor& hidden, const torch::Tensor& attention_mask) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  if (!attention_mask.defined()) return hidden.select(1, seq - 1);

  // The largest position index among a row's real tokens is its last real token.
  torch::Tensor positions = torch::arange(seq, hidden.options().dtype(torch::kInt64));
  torch::Tensor last = (positions * attention_mask.to(hidden.device()).ne(0)).argmax(1);
  return hidden.gather(1, last.view({batch, 1, 1}).expand({batch, 1, hidden.size(2)})).squeeze(1);
}

absl::StatusOr<Transformer> CreateTransformer(const Checkpoint& checkpoint,
                                              torch::Device device) {
  auto status = ValidateModelConfig(checkpoint.config);
  if (!status.ok()) return status;
  try {
    Transformer model(TransformerOptions{checkpoint.config, device});
    status = model->LoadWeights(checkpoint.weights);
    if (!status.ok()) return status;
    return model;
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat("building the transformer on ", device.str(),
                                            " failed: ", error.what_without_backtrace()));
  }
}

}  // namespace reftune::model
