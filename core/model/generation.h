// Batched autoregressive generation with a KV cache.
#ifndef REFTUNE_CORE_MODEL_GENERATION_H_
#define REFTUNE_CORE_MODEL_GENERATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/transformer.h"

namespace reftune::model {

struct GenerationOptions {
  // Tokens to generate per prompt at most, the stop token included.
  int64_t max_new_tokens = 128;
  // 0 picks the most likely token (greedy); above 0 samples from softmax(logits / temperature).
  double temperature = 0.0;
  // Nucleus sampling: samples among the most likely tokens whose probabilities sum to top_p.
  // 1 keeps the whole vocabulary. Ignored when greedy.
  double top_p = 1.0;
  // Seed of the sampling generator; the same seed and inputs give the same tokens.
  uint64_t seed = 0;
  // LoRA adapter to apply; empty uses the base model.
  std::string adapter;
};

enum class FinishReason {
  // The model produced ModelConfig::end_of_answer_id.
  kEndOfAnswer,
  // The model produced ModelConfig::eos_id.
  kEos,
  // max_new_tokens were generated without a stop token.
  kMaxNewTokens,
};

struct GeneratedSequence {
  // New tokens after the prompt, without the stop token.
  std::vector<int64_t> tokens;
  FinishReason finish_reason = FinishReason::kMaxNewTokens;
};

// Generates a continuation of every prompt (token ids, each non-empty). Prompts of different
// lengths are left-padded into one batch; each sequence's tokens equal what it would get alone,
// up to float rounding. Runs under torch::InferenceMode, so it cannot be part of a backward pass.
// Prompt plus max_new_tokens must fit the model's max_seq_len.
absl::StatusOr<std::vector<GeneratedSequence>> Generate(
    Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
    const GenerationOptions& options);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_GENERATION_H_
