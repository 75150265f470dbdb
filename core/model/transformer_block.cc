#include "core/model/transformer_block.h"

#include <cmath>

namespace reftune::model {

torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  torch::Tensor x32 = x.to(torch::kFloat32);
  torch::Tensor inverse_rms = torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (x32 * inverse_rms).to(x.scalar_type()) * weight;
}

TransformerBlockImpl::TransformerBlockImpl(const ModelConfig& config) : config_(config) {
  reset();
}

void TransformerBlockImpl::reset() {
  const int64_t dim = config_.dim;
  const int64_t kv_dim = config_.n_kv_heads * config_.head_dim();
  const int64_t hidden = config_.hidden_dim;
  input_layernorm = register_parameter("input_layernorm", torch::ones({dim}), false);
  post_attention_layernorm =
      register_parameter("post_attention_layernorm", torch::ones({dim}), false);
  q_proj = register_module("q_proj", LoraLinear(LoraLinearOptions{dim, dim}));
  k_proj = register_module("k_proj", LoraLinear(LoraLinearOptions{dim, kv_dim}));
  v_proj = register_module("v_proj", LoraLinear(LoraLinearOptions{dim, kv_dim}));
  o_proj = register_module("o_proj", LoraLinear(LoraLinearOptions{dim, dim}));
  gate_proj = register_module("gate_proj", LoraLinear(LoraLinearOptions{dim, hidden}));
  up_proj = register_module("up_proj", LoraLinear(LoraLinearOptions{dim, hidden}));
  down_proj = register_module("down_proj", LoraLinear(LoraLinearOptions{hidden, dim}));
}

std::vector<std::pair<std::string, LoraLinear>> TransformerBlockImpl::Projections() const {
  return {{"self_attn.q_proj", q_proj},     {"self_attn.k_proj", k_proj},
          {"self_attn.v_proj", v_proj},     {"self_attn.o_proj", o_proj},
          {"mlp.gate_proj", gate_proj},     {"mlp.up_proj", up_proj},
          {"mlp.down_proj", down_proj}};
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const AttentionInputs& inputs,
                                            const ForwardOptions& options, LayerCache* cache) {
  torch::Tensor h = x + Attention(RmsNorm(x, input_layernorm, config_.norm_eps), inputs, options,
                                  cache);

  torch::Tensor normed = RmsNorm(h, post_attention_layernorm, config_.norm_eps);
  torch::Tensor gated = torch::silu(gate_proj->forward(normed, options));
  torch::Tensor mlp = down_proj->forward(gated * up_proj->forward(normed, options), options);
  return h + mlp;
}

torch::Tensor TransformerBlockImpl::Attention(const torch::Tensor& normed,
                                              const AttentionInputs& inputs,
                                              const ForwardOptions& options, LayerCache* cache) {
  const int64_t batch = inputs.batch;
  const int64_t seq = inputs.seq;
  const int64_t head_dim = config_.head_dim();
  const int64_t heads = config_.n_heads;
  const int64_t kv_heads = config_.n_kv_heads;
  const int64_t group = heads / kv_heads;

  // Rotary runs on [batch, seq, heads, head_dim]; attention on [batch, heads, seq, head_dim].
  torch::Tensor q = q_proj->forward(normed, options).view({batch, seq, heads, head_dim});
  torch::Tensor k = k_proj->forward(normed, options).view({batch, seq, kv_heads, head_dim});
  torch::Tensor v = v_proj->forward(normed, options).view({batch, seq, kv_heads, head_dim});
  q = inputs.rotary->Apply(q, inputs.cos, inputs.sin) * (1.0 / std::sqrt(double(head_dim)));
  k = inputs.rotary->Apply(k, inputs.cos, inputs.sin).transpose(1, 2);
  v = v.transpose(1, 2);

  if (cache != nullptr) {
    cache->keys.narrow(2, cache->offset, seq).copy_(k);
    cache->values.narrow(2, cache->offset, seq).copy_(v);
    k = cache->keys.narrow(2, 0, cache->offset + seq);
    v = cache->values.narrow(2, 0, cache->offset + seq);
  }
  const int64_t keys = k.size(2);

  // Query head h uses key/value head h / group. Folding the group into the query rows lets one
  // batched matmul serve all heads without copying keys and values group times.
  torch::Tensor grouped_q =
      q.transpose(1, 2).reshape({batch, kv_heads, group * seq, head_dim});
  // Out of place: an in-place add on this view would make backward copy the whole score
  // gradient through CopySlices.
  torch::Tensor scores = torch::matmul(grouped_q, k.transpose(2, 3))
                             .view({batch, kv_heads, group, seq, keys}) +
                         inputs.bias;
  torch::Tensor probs = torch::softmax(scores, -1).view({batch, kv_heads, group * seq, keys});
  torch::Tensor context = torch::matmul(probs, v)
                              .view({batch, heads, seq, head_dim})
                              .transpose(1, 2)
                              .reshape({batch * seq, heads * head_dim});
  return o_proj->forward(context, options);
}

}  // namespace reftune::model
