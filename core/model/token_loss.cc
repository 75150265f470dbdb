#include "core/model/token_loss.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::model {
namespace {

constexpr int64_t kIgnoreIndex = -100;

}  // namespace

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

    // Row b * seq + t predicts input_ids[b, t + 1]; rows that predict no answer token get the
    // ignore index, so cross_entropy returns 0 for them. Running log-softmax over every row costs
    // less than gathering the answer rows, whose gather and its backward copy the logits twice.
    torch::Tensor predicts_answer = torch::zeros({batch, seq}, torch::kBool).to(device);
    predicts_answer.narrow(1, 0, seq - 1).copy_(loss_mask.narrow(1, 1, seq - 1).ne(0));
    torch::Tensor ids = input_ids.to(device, torch::kInt64);
    torch::Tensor targets = torch::full({batch, seq}, kIgnoreIndex, ids.options());
    targets.narrow(1, 0, seq - 1).copy_(ids.narrow(1, 1, seq - 1));
    targets.masked_fill_(predicts_answer.logical_not(), kIgnoreIndex);

    torch::Tensor losses = torch::nn::functional::cross_entropy(
        logits.reshape({batch * seq, vocab}).to(torch::kFloat32), targets.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone).ignore_index(
            kIgnoreIndex));
    torch::Tensor sums = losses.view({batch, seq}).sum(1);

    TokenLoss result;
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
