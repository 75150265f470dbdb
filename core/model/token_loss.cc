#include "core/model/token_loss.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::model {

absl::StatusOr<TokenLoss> MaskedTokenCrossEntropy(const torch::Tensor& logits,
                                                  const torch::Tensor& input_ids,
                                                  const torch::Tensor& loss_mask) {
  if (logits.dim() != 3 || input_ids.dim() != 2 || !loss_mask.sizes().equals(input_ids.sizes()) ||
      logits.size(0) != input_ids.size(0) || logits.size(1) != input_ids.size(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token loss needs logits [batch, seq, vocab] and input_ids and loss_mask [batch, seq], got "
        "logits [", absl::StrJoin(logits.sizes().vec(), ", "), "], input_ids [",
        absl::StrJoin(input_ids.sizes().vec(), ", "), "], loss_mask [",
        absl::StrJoin(loss_mask.sizes().vec(), ", "), "]"));
  }
  try {
    const int64_t batch = logits.size(0);
    const int64_t seq = logits.size(1);
    const int64_t vocab = logits.size(2);
    torch::Device device = logits.device();

    // Flat index b * seq + t of every logit row that predicts an answer token at t + 1.
    torch::Tensor predicts_answer = torch::zeros({batch, seq}, torch::kBool).to(device);
    predicts_answer.narrow(1, 0, seq - 1).copy_(loss_mask.narrow(1, 1, seq - 1).ne(0));
    torch::Tensor rows = predicts_answer.reshape({-1}).nonzero().squeeze(1);

    torch::Tensor targets = input_ids.to(device, torch::kInt64).reshape({-1}).index_select(0, rows + 1);
    torch::Tensor selected = logits.reshape({batch * seq, vocab}).index_select(0, rows);
    torch::Tensor losses = torch::nn::functional::cross_entropy(
        selected.to(torch::kFloat32), targets,
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));

    TokenLoss result;
    torch::Tensor sequence_of_row = torch::div(rows, seq, "floor");
    torch::Tensor sums = torch::zeros({batch}, losses.options()).index_add(0, sequence_of_row, losses);
    result.token_counts = predicts_answer.sum(1);
    torch::Tensor counts = result.token_counts.to(torch::kFloat32);
    result.per_sequence = sums / counts.clamp_min(1.0);
    result.token_mean = sums.sum() / counts.sum().clamp_min(1.0);
    torch::Tensor has_answer = counts.gt(0).to(torch::kFloat32);
    result.sequence_mean = (result.per_sequence * has_answer).sum() / has_answer.sum().clamp_min(1.0);
    return result;
  } catch (const c10::Error& error) {
    return absl::InternalError(
        absl::StrCat("token cross-entropy failed: ", error.what_without_backtrace()));
  }
}

}  // namespace reftune::model
