// The refusal-feature regulariser and the distillation term. Answer cross-entropy is
// model::MaskedTokenCrossEntropy.
#ifndef REFTUNE_CORE_METHOD_LOSSES_H_
#define REFTUNE_CORE_METHOD_LOSSES_H_

#include <torch/torch.h>

namespace reftune::method {

// The teacher regulariser mean_i |1 - CS(f_i, R)| over harmful rows plus mean_i |1 + CS(f_i, R)|
// over harmless rows, for features [batch, dim], refusal feature [dim] and a [batch] bool mask
// of harmful rows. A side with no rows contributes 0. R is treated as a constant.
torch::Tensor RefusalRegularizer(const torch::Tensor& features, const torch::Tensor& refusal,
                                 const torch::Tensor& harmful_mask);

// Teacher soft labels on answer tokens in a compact form: for each scored token the top-k
// log-probabilities log softmax(z / T) of the teacher and their vocabulary ids. The mass outside
// the top k goes into one "rest" bucket, so the KL divergence below is exact over k + 1 outcomes
// and is 0 when the student's distribution equals the teacher's.
struct SoftLabels {
  // [tokens, k] float32.
  torch::Tensor log_probs;
  // [tokens, k] int64.
  torch::Tensor token_ids;
};

// Builds soft labels from logits [tokens, vocab]; top_k <= 0 or >= vocab keeps the whole vocabulary.
SoftLabels MakeSoftLabels(const torch::Tensor& logits, double temperature, int64_t top_k);

// Mean over tokens of KL(p_teacher || p_student) at temperature T, for student logits
// [tokens, vocab] and the teacher's soft labels for the same tokens in the same order.
// The caller multiplies by alpha * T^2.
torch::Tensor DistillationKl(const torch::Tensor& student_logits, const SoftLabels& teacher,
                             double temperature);

// Selects the logits of scored positions (targets != kIgnoreTarget) in row-major order:
// [tokens, vocab].
torch::Tensor AnswerTokenLogits(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_LOSSES_H_
