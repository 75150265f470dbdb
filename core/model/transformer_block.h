// One Llama decoder block: RMSNorm, grouped-query self-attention, RMSNorm, SwiGLU MLP.
#ifndef REFTUNE_CORE_MODEL_TRANSFORMER_BLOCK_H_
#define REFTUNE_CORE_MODEL_TRANSFORMER_BLOCK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/model/config.h"
#include "core/model/forward_options.h"
#include "core/model/lora_linear.h"
#include "core/model/rotary_embedding.h"

namespace reftune::model {

// Inputs every block of one forward pass shares, prepared once by the transformer.
struct AttentionInputs {
  int64_t batch = 0;
  int64_t seq = 0;
  // Rotary tables for the new tokens, [batch, seq, 1, head_dim / 2].
  torch::Tensor cos;
  torch::Tensor sin;
  // Additive attention bias, [batch, 1, 1, seq, keys]: 0 where a query may attend, a large
  // negative value for future and padding keys.
  torch::Tensor bias;
  const RotaryEmbedding* rotary = nullptr;
};

// Cache slots of one block; keys and values are [batch, n_kv_heads, capacity, head_dim] and the
// new tokens go to slots [offset, offset + seq).
struct LayerCache {
  torch::Tensor keys;
  torch::Tensor values;
  int64_t offset = 0;
};

// RMSNorm: x / sqrt(mean(x^2) + eps) * weight, computed in float32.
torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const ModelConfig& config);

  void reset();

  // x: residual stream [batch * seq, dim]. Returns the residual stream after this block.
  // With `cache`, the block stores the new keys and values and attends over all filled slots.
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& inputs,
                        const ForwardOptions& options, LayerCache* cache);

  // The seven projections by their Hugging Face names with their module path
  // ("self_attn.q_proj", ..., "mlp.down_proj").
  std::vector<std::pair<std::string, LoraLinear>> Projections() const;

  torch::Tensor input_layernorm;
  torch::Tensor post_attention_layernorm;
  LoraLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  LoraLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};

 private:
  torch::Tensor Attention(const torch::Tensor& normed, const AttentionInputs& inputs,
                          const ForwardOptions& options, LayerCache* cache);

  ModelConfig config_;
};
TORCH_MODULE(TransformerBlock);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TRANSFORMER_BLOCK_H_
