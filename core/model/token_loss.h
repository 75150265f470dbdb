// Prompt-masked next-token cross-entropy over right-padded batches.
#ifndef REFTUNE_CORE_MODEL_TOKEN_LOSS_H_
#define REFTUNE_CORE_MODEL_TOKEN_LOSS_H_

#include <torch/torch.h>

#include "absl/status/statusor.h"

namespace reftune::model {

struct TokenLoss {
  // [batch] mean cross-entropy over each sequence's answer tokens; 0 for a sequence without any.
  torch::Tensor per_sequence;
  // Scalar mean over every answer token of the batch (0 when there are none).
  torch::Tensor token_mean;
  // Scalar mean of per_sequence over the sequences that have answer tokens.
  torch::Tensor sequence_mean;
  // [batch] int64 answer-token counts.
  torch::Tensor token_counts;
};

// Cross-entropy of predicting input_ids[b, t] from logits[b, t - 1], counted only where
// loss_mask[b, t] is nonzero (the answer tokens; prompt and padding are 0). logits is
// [batch, seq, vocab]; input_ids and loss_mask are [batch, seq]. Prompt and padding positions
// contribute 0 to loss and gradient. The losses carry gradients.
absl::StatusOr<TokenLoss> MaskedTokenCrossEntropy(const torch::Tensor& logits,
                                                  const torch::Tensor& input_ids,
                                                  const torch::Tensor& loss_mask);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TOKEN_LOSS_H_
