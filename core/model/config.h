// Architecture settings of a Llama-family model, read from a checkpoint.
#ifndef REFTUNE_CORE_MODEL_CONFIG_H_
#define REFTUNE_CORE_MODEL_CONFIG_H_

#include <cstdint>
#include <string>

namespace reftune::model {

// How rotary position embedding pairs the dimensions of each attention head.
enum class RopeStyle {
  // llama2.c and Meta's original code: rotate adjacent pairs (2i, 2i + 1).
  kInterleaved,
  // Hugging Face Llama: rotate dimension i with dimension i + head_dim / 2.
  kHalf,
};

struct ModelConfig {
  int64_t dim = 0;
  // Width of the SwiGLU MLP (intermediate_size in Hugging Face configs).
  int64_t hidden_dim = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  // Key/value heads for grouped-query attention; equal to n_heads for plain multi-head attention.
  int64_t n_kv_heads = 0;
  int64_t vocab_size = 0;
  // Longest sequence the rotary tables cover, in tokens.
  int64_t max_seq_len = 0;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  // True when the output head reuses the token embedding matrix.
  bool tied_embeddings = true;
  RopeStyle rope_style = RopeStyle::kHalf;

  int64_t bos_id = 1;
  int64_t eos_id = 2;
  // Token that ends a generated answer. stories260K never learned EOS and ends text with BOS, so
  // this is a per-model setting; generation stops at this token or at eos_id.
  int64_t end_of_answer_id = 2;

  int64_t head_dim() const { return dim / n_heads; }
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_CONFIG_H_
