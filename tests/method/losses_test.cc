#include "core/method/losses.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace reftune::method {
namespace {

TEST(RefusalRegularizer, GradientRaisesHarmfulCosine) {
  torch::manual_seed(3);
  const torch::Tensor refusal = torch::randn({8});
  torch::Tensor features = torch::randn({4, 8}).requires_grad_(true);
  const torch::Tensor harmful = torch::tensor({true, true, false, false});

  const torch::Tensor loss = RefusalRegularizer(features, refusal, harmful);
  loss.backward();

  // One small descent step must move harmful rows toward R and harmless rows away from it.
  const torch::Tensor before = torch::nn::functional::cosine_similarity(
      features.detach(), refusal.unsqueeze(0).expand({4, 8}),
      torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
  const torch::Tensor stepped = features.detach() - 0.01 * features.grad();
  const torch::Tensor after = torch::nn::functional::cosine_similarity(
      stepped, refusal.unsqueeze(0).expand({4, 8}),
      torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
  for (int row = 0; row < 2; ++row) {
    SCOPED_TRACE(row);
    EXPECT_GT(after[row].item<double>(), before[row].item<double>());
  }
  for (int row = 2; row < 4; ++row) {
    SCOPED_TRACE(row);
    EXPECT_LT(after[row].item<double>(), before[row].item<double>());
  }
}

TEST(RefusalRegularizer, ZeroAtIdealCosines) {
  const torch::Tensor refusal = torch::tensor({1.0, 2.0, -1.0});
  const torch::Tensor features = torch::stack({refusal * 3.0, refusal * -0.5});
  const torch::Tensor loss =
      RefusalRegularizer(features, refusal, torch::tensor({true, false}));
  EXPECT_NEAR(loss.item<double>(), 0.0, 1e-6);
}

TEST(DistillationKl, ZeroWhenStudentEqualsTeacher) {
  torch::manual_seed(5);
  const torch::Tensor logits = torch::randn({6, 32});
  for (int64_t top_k : {0, 4, 31}) {
    SCOPED_TRACE(top_k);
    const SoftLabels labels = MakeSoftLabels(logits, /*temperature=*/1.0, top_k);
    EXPECT_NEAR(DistillationKl(logits, labels, 1.0).item<double>(), 0.0, 1e-5);
  }
}

TEST(DistillationKl, PositiveWhenStudentDiffers) {
  torch::manual_seed(6);
  const torch::Tensor teacher = torch::randn({6, 32});
  const torch::Tensor student = torch::randn({6, 32});
  const SoftLabels full = MakeSoftLabels(teacher, 2.0, 0);
  const double kl = DistillationKl(student, full, 2.0).item<double>();
  EXPECT_GT(kl, 0.01);

  // With the whole vocabulary kept the value equals torch's KL divergence.
  const torch::Tensor expected = torch::kl_div(torch::log_softmax(student / 2.0, -1),
                                               torch::log_softmax(teacher / 2.0, -1),
                                               at::Reduction::None, /*log_target=*/true)
                                     .sum(-1)
                                     .mean();
  EXPECT_NEAR(kl, expected.item<double>(), 1e-5);

  // Top-k with the rest bucket stays non-negative.
  EXPECT_GE(DistillationKl(student, MakeSoftLabels(teacher, 2.0, 4), 2.0).item<double>(), 0.0);
}

}  // namespace
}  // namespace reftune::method
