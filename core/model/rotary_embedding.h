// Rotary position embedding in the two pairings Llama checkpoints use.
#ifndef REFTUNE_CORE_MODEL_ROTARY_EMBEDDING_H_
#define REFTUNE_CORE_MODEL_ROTARY_EMBEDDING_H_

#include <cstdint>

#include <torch/torch.h>

#include "core/model/config.h"

namespace reftune::model {

// Cosine and sine tables for positions [0, max_seq_len): frequency i of a head is
// theta^(-2i / head_dim), i in [0, head_dim / 2).
class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  RotaryEmbedding(int64_t head_dim, int64_t max_seq_len, double theta, RopeStyle style,
                  torch::Device device);

  // Looks up the tables for `positions` ([batch, seq] int64, each in [0, max_seq_len)).
  // Returns cos and sin shaped [batch, seq, 1, head_dim / 2] to broadcast over heads.
  std::pair<torch::Tensor, torch::Tensor> Lookup(const torch::Tensor& positions) const;

  // Rotates x ([batch, seq, heads, head_dim]) by the looked-up angles.
  torch::Tensor Apply(const torch::Tensor& x, const torch::Tensor& cos,
                      const torch::Tensor& sin) const;

  int64_t max_seq_len() const { return max_seq_len_; }

 private:
  int64_t head_dim_ = 0;
  int64_t max_seq_len_ = 0;
  RopeStyle style_ = RopeStyle::kHalf;
  // [max_seq_len, head_dim / 2] float32.
  torch::Tensor cos_;
  torch::Tensor sin_;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_ROTARY_EMBEDDING_H_
