// Tokenised prompt/answer examples and the right-padded batches that training, feature extraction
// and filtering run on.
#ifndef REFTUNE_CORE_METHOD_TOKEN_BATCH_H_
#define REFTUNE_CORE_METHOD_TOKEN_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/data/record.h"
#include "core/model/tokenizer.h"

namespace reftune::method {

struct EncodeOptions {
  // Longest prompt + answer sequence in tokens. Longer prompts lose tokens from their start
  // (after BOS), so the template's closing "### Response:" part is always kept.
  int64_t max_seq_len = 256;
  // Answers are cut to this many tokens before the end-of-answer token is appended.
  int64_t max_answer_tokens = 64;
  // Token appended after every answer so that the model learns where to stop; -1 appends none.
  int64_t end_of_answer_id = 2;
};

// One example: BOS + rendered prompt tokens, then the answer tokens (possibly none).
struct EncodedExample {
  std::vector<int64_t> ids;
  // Number of leading prompt tokens in `ids` (BOS included); the rest are answer tokens.
  int64_t prompt_length = 0;
};

// Encodes record.prompt through `prompt_template` and, when `with_answer`, record.response.
// INVALID_ARGUMENT names the record line when the template leaves no room for the prompt.
absl::StatusOr<EncodedExample> EncodeExample(const model::Tokenizer& tokenizer,
                                             const data::PromptTemplate& prompt_template,
                                             const data::Record& record, bool with_answer,
                                             const EncodeOptions& options);

// Encodes every record; the first failure stops the loop.
absl::StatusOr<std::vector<EncodedExample>> EncodeExamples(
    const model::Tokenizer& tokenizer, const data::PromptTemplate& prompt_template,
    const std::vector<data::Record>& records, bool with_answer, const EncodeOptions& options);

// A right-padded batch on one device.
struct TokenBatch {
  // [batch, seq] int64, padding id 0.
  torch::Tensor input_ids;
  // [batch, seq] int64, 1 for real tokens.
  torch::Tensor attention_mask;
  // [batch, seq] int64: the token each position predicts (input_ids shifted left), or -100
  // where the next token is not an answer token (prompt, padding, the last position).
  torch::Tensor targets;
  // [batch, seq] int64, 1 at answer tokens (the positions cross-entropy scores).
  torch::Tensor loss_mask;
  // [batch] int64: position of each example's last prompt token, where f^l(x) is read.
  torch::Tensor last_prompt_positions;
  // Real tokens in the batch, for tokens/s.
  int64_t token_count = 0;
};

// Label that cross-entropy ignores.
inline constexpr int64_t kIgnoreTarget = -100;

// Stacks examples[indices[i]] into one batch on `device`.
TokenBatch MakeTokenBatch(const std::vector<EncodedExample>& examples,
                          const std::vector<int64_t>& indices, torch::Device device);

// Gathers rows of `hidden` ([batch, seq, dim]) at each example's last prompt token: [batch, dim].
torch::Tensor GatherLastPromptStates(const torch::Tensor& hidden, const TokenBatch& batch);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_TOKEN_BATCH_H_
