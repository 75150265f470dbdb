#include "core/method/losses.h"

#include "core/method/token_batch.h"

namespace reftune::method {
namespace {

// Guards the logarithm of a probability that may round to 0.
constexpr double kMinProbability = 1e-12;

}  // namespace

torch::Tensor RefusalRegularizer(const torch::Tensor& features, const torch::Tensor& refusal,
                                 const torch::Tensor& harmful_mask) {
  const torch::Tensor cosine = torch::nn::functional::cosine_similarity(
      features, refusal.detach().unsqueeze(0).expand_as(features),
      torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
  const torch::Tensor harmful = harmful_mask.to(cosine.dtype());
  const torch::Tensor harmless = 1.0 - harmful;
  const torch::Tensor harmful_term =
      ((1.0 - cosine).abs() * harmful).sum() / harmful.sum().clamp_min(1.0);
  const torch::Tensor harmless_term =
      ((1.0 + cosine).abs() * harmless).sum() / harmless.sum().clamp_min(1.0);
  return harmful_term + harmless_term;
}

SoftLabels MakeSoftLabels(const torch::Tensor& logits, double temperature, int64_t top_k) {
  torch::NoGradGuard no_grad;
  const torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat32) / temperature, -1);
  const int64_t vocab = logits.size(-1);
  SoftLabels labels;
  if (top_k <= 0 || top_k >= vocab) {
    labels.log_probs = log_probs.contiguous();
    labels.token_ids = torch::arange(vocab, log_probs.options().dtype(torch::kInt64))
                           .unsqueeze(0)
                           .expand({log_probs.size(0), vocab})
                           .contiguous();
    return labels;
  }
  auto [values, ids] = log_probs.topk(top_k, -1);
  labels.log_probs = values.contiguous();
  labels.token_ids = ids.contiguous();
  return labels;
}

torch::Tensor DistillationKl(const torch::Tensor& student_logits, const SoftLabels& teacher,
                             double temperature) {
  if (student_logits.size(0) == 0) return torch::zeros({}, student_logits.options());
  const torch::Tensor student_log_probs =
      torch::log_softmax(student_logits.to(torch::kFloat32) / temperature, -1);
  const torch::Tensor student_top = student_log_probs.gather(1, teacher.token_ids);
  const torch::Tensor teacher_top = teacher.log_probs.to(student_top.device());
  const torch::Tensor teacher_probs = teacher_top.exp();
  torch::Tensor kl = (teacher_probs * (teacher_top - student_top)).sum(1);

  // The rest bucket: mass outside the teacher's top k, zero when k covers the vocabulary.
  const torch::Tensor teacher_rest = (1.0 - teacher_probs.sum(1)).clamp_min(0.0);
  const torch::Tensor student_rest = (1.0 - student_top.exp().sum(1)).clamp_min(kMinProbability);
  const torch::Tensor has_rest = teacher_rest > 1e-6;
  const torch::Tensor rest_term =
      teacher_rest * (teacher_rest.clamp_min(kMinProbability).log() - student_rest.log());
  kl = kl + torch::where(has_rest, rest_term, torch::zeros_like(rest_term));
  return kl.mean();
}

torch::Tensor AnswerTokenLogits(const torch::Tensor& logits, const torch::Tensor& targets) {
  const torch::Tensor positions = (targets != kIgnoreTarget).reshape({-1}).nonzero().squeeze(1);
  return logits.reshape({-1, logits.size(-1)}).index_select(0, positions);
}

}  // namespace reftune::method
