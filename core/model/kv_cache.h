// Key/value cache for incremental decoding.
#ifndef REFTUNE_CORE_MODEL_KV_CACHE_H_
#define REFTUNE_CORE_MODEL_KV_CACHE_H_

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace reftune::model {

// Keys and values of every block for a batch of sequences, filled by Transformer::Forward.
// Create it with Transformer::NewKvCache. One cache belongs to one generation call; it is not
// safe to share between threads.
struct KvCache {
  // Per block: [batch, n_kv_heads, capacity, head_dim], rotary already applied to keys.
  std::vector<torch::Tensor> keys;
  std::vector<torch::Tensor> values;
  // [batch, capacity] bool: true where the cached slot contains a real (non-padding) token.
  torch::Tensor key_mask;
  // [batch] int64: rotary position of each sequence's next token (its count of real tokens).
  torch::Tensor next_positions;
  // Slots filled so far, the same for every sequence (padding slots included).
  int64_t length = 0;

  int64_t capacity() const { return key_mask.defined() ? key_mask.size(1) : 0; }
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_KV_CACHE_H_
