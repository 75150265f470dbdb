#include <cmath>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "core/model/adamw.h"
#include "core/model/learning_rate_schedule.h"
#include "core/model/token_loss.h"
#include "core/model/training_state.h"
#include "core/model/transformer.h"
#include "gtest/gtest.h"
#include "tests/model/stories_model.h"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::NewStories260kModel;
using ::reftune::model::testing::Stories260kGolden;
using ::reftune::model::testing::TempFolder;

struct Example {
  std::vector<int64_t> prompt;
  std::vector<int64_t> answer;
};

struct Batch {
  torch::Tensor ids;
  torch::Tensor attention_mask;
  torch::Tensor loss_mask;
};

// Prompt and answer pieces cut from the golden greedy text, with answers the model must learn to
// give after unrelated prompts.
std::vector<Example> SmallDataset() {
  std::vector<int64_t> ids =
      Stories260kGolden()["greedy_empty_prompt"]["ids"].get<std::vector<int64_t>>();
  auto slice = [&ids](int begin, int end) {
    return std::vector<int64_t>(ids.begin() + begin, ids.begin() + end);
  };
  std::vector<Example> examples;
  for (int i = 0; i < 6; ++i) {
    std::vector<int64_t> prompt = {1};
    std::vector<int64_t> words = slice(10 + 20 * i, 13 + 20 * i + i);
    prompt.insert(prompt.end(), words.begin(), words.end());
    examples.push_back({prompt, slice(140 + 5 * i, 146 + 5 * i)});
  }
  return examples;
}

Batch RightPaddedBatch(const std::vector<Example>& examples) {
  int64_t longest = 0;
  for (const Example& e : examples) {
    longest = std::max<int64_t>(longest, e.prompt.size() + e.answer.size());
  }
  const int64_t batch = static_cast<int64_t>(examples.size());
  Batch result{torch::zeros({batch, longest}, torch::kInt64),
               torch::zeros({batch, longest}, torch::kInt64),
               torch::zeros({batch, longest}, torch::kInt64)};
  for (int64_t row = 0; row < batch; ++row) {
    std::vector<int64_t> tokens = examples[row].prompt;
    tokens.insert(tokens.end(), examples[row].answer.begin(), examples[row].answer.end());
    const int64_t length = static_cast<int64_t>(tokens.size());
    result.ids[row].narrow(0, 0, length).copy_(torch::tensor(tokens, torch::kInt64));
    result.attention_mask[row].narrow(0, 0, length).fill_(1);
    result.loss_mask[row].narrow(0, examples[row].prompt.size(), examples[row].answer.size()).fill_(1);
  }
  return result;
}

TEST(TokenLoss, PaddedBatchMatchesSingles) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model->AddAdapter("a", LoraConfig(), 1).ok());
  std::vector<Example> examples = SmallDataset();
  Batch batch = RightPaddedBatch(examples);
  ForwardOptions options;
  options.adapter = "a";
  auto output = model->Forward(batch.ids, batch.attention_mask, options);
  ASSERT_TRUE(output.ok());
  auto loss = MaskedTokenCrossEntropy(output->logits, batch.ids, batch.loss_mask);
  ASSERT_TRUE(loss.ok()) << loss.status();

  double token_sum = 0;
  int64_t token_count = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    SCOPED_TRACE(i);
    Batch single = RightPaddedBatch({examples[i]});
    auto single_output = model->Forward(single.ids, single.attention_mask, options);
    ASSERT_TRUE(single_output.ok());
    auto single_loss = MaskedTokenCrossEntropy(single_output->logits, single.ids, single.loss_mask);
    ASSERT_TRUE(single_loss.ok());
    const double expected = single_loss->per_sequence[0].item<double>();
    EXPECT_NEAR(loss->per_sequence[i].item<double>(), expected, 1e-5);
    EXPECT_EQ(loss->token_counts[i].item<int64_t>(), static_cast<int64_t>(examples[i].answer.size()));
    token_sum += expected * examples[i].answer.size();
    token_count += examples[i].answer.size();
  }
  EXPECT_NEAR(loss->token_mean.item<double>(), token_sum / token_count, 1e-5);
}

TEST(TokenLoss, RejectsMismatchedShapes) {
  auto loss = MaskedTokenCrossEntropy(torch::zeros({2, 5, 7}), torch::zeros({2, 4}, torch::kInt64),
                                      torch::zeros({2, 4}));
  ASSERT_FALSE(loss.ok());
  EXPECT_EQ(loss.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loss.status().message().find("logits [2, 5, 7]"), std::string::npos) << loss.status();
}

// Trains adapter "a" from step `first` to `last` (exclusive) with dropout, returning the losses.
// Each step's batch and dropout masks derive from (seed, step) alone, so a resumed run repeats
// an uninterrupted one.
std::vector<double> TrainSteps(Transformer& model, AdamW& optimizer, int64_t first, int64_t last,
                               uint64_t seed, const LearningRateSchedule& schedule) {
  std::vector<Example> examples = SmallDataset();
  std::vector<double> losses;
  for (int64_t step = first; step < last; ++step) {
    at::Generator data_order = at::detail::createCPUGenerator(seed * 1000003 + step);
    torch::Tensor order = torch::randperm(examples.size(), data_order, torch::kInt64);
    std::vector<Example> chosen;
    for (int i = 0; i < 3; ++i) chosen.push_back(examples[order[i].item<int64_t>()]);
    Batch batch = RightPaddedBatch(chosen);

    ForwardOptions options;
    options.adapter = "a";
    options.apply_dropout = true;
    options.dropout_generator = at::detail::createCPUGenerator(seed * 2000003 + step);
    auto output = model->Forward(batch.ids, batch.attention_mask, options);
    EXPECT_TRUE(output.ok()) << output.status();
    auto loss = MaskedTokenCrossEntropy(output->logits, batch.ids, batch.loss_mask);
    EXPECT_TRUE(loss.ok()) << loss.status();
    loss->token_mean.backward();
    ClipGradientNorm(optimizer.parameters(), 1.0);
    optimizer.Step(schedule.LearningRateAt(step));
    optimizer.ZeroGrad();
    losses.push_back(loss->token_mean.item<double>());
  }
  return losses;
}

LoraConfig TrainingLoraConfig() {
  LoraConfig config;
  config.r = 8;
  config.lora_alpha = 16;
  config.lora_dropout = 0.1;
  return config;
}

TEST(LoraTraining, LossGoesDown) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model->AddAdapter("a", TrainingLoraConfig(), 1).ok());
  AdamW optimizer(*model->AdapterParameters("a"), AdamWOptions());
  LearningRateSchedule schedule{1e-2, 10, 200, LearningRateDecay::kLinear, 0.1};
  std::vector<double> losses = TrainSteps(model, optimizer, 0, 200, 5, schedule);

  double first = 0, last = 0;
  for (int i = 0; i < 10; ++i) {
    first += losses[i] / 10;
    last += losses[losses.size() - 1 - i] / 10;
  }
  EXPECT_LT(last, 0.25 * first) << "first 10 steps " << first << ", last 10 steps " << last;
}

TEST(LoraTraining, ResumeRepeatsLossCurve) {
  LearningRateSchedule schedule{5e-3, 2, 8, LearningRateDecay::kCosine, 0.0};
  const uint64_t seed = 11;
  Transformer uninterrupted = NewStories260kModel();
  ASSERT_TRUE(uninterrupted->AddAdapter("a", TrainingLoraConfig(), 3).ok());
  AdamW optimizer(*uninterrupted->AdapterParameters("a"), AdamWOptions{0.9, 0.999, 1e-8, 0.01});
  std::vector<double> expected = TrainSteps(uninterrupted, optimizer, 0, 8, seed, schedule);

  TempFolder folder;
  const std::string path = folder.File("state.pt");
  {
    Transformer first_run = NewStories260kModel();
    ASSERT_TRUE(first_run->AddAdapter("a", TrainingLoraConfig(), 3).ok());
    AdamW first_optimizer(*first_run->AdapterParameters("a"), AdamWOptions{0.9, 0.999, 1e-8, 0.01});
    std::vector<double> losses = TrainSteps(first_run, first_optimizer, 0, 4, seed, schedule);
    EXPECT_EQ(losses, std::vector<double>(expected.begin(), expected.begin() + 4));

    TrainingState state;
    state.step = 4;
    state.data_position = 12;
    state.seed = seed;
    state.adapter = *first_run->ExportAdapter("a");
    state.optimizer = first_optimizer.StateTensors();
    state.optimizer_step = first_optimizer.step_count();
    ASSERT_TRUE(SaveTrainingState(state, path).ok());
  }

  auto state = LoadTrainingState(path);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->step, 4);
  EXPECT_EQ(state->data_position, 12);
  EXPECT_EQ(state->seed, seed);
  Transformer resumed = NewStories260kModel();
  // A different init seed: every value must come from the saved state.
  ASSERT_TRUE(resumed->AddAdapter("a", TrainingLoraConfig(), 99).ok());
  ASSERT_TRUE(resumed->LoadAdapterTensors("a", state->adapter).ok());
  AdamW resumed_optimizer(*resumed->AdapterParameters("a"), AdamWOptions{0.9, 0.999, 1e-8, 0.01});
  ASSERT_TRUE(resumed_optimizer.LoadState(state->optimizer, state->optimizer_step).ok());
  std::vector<double> continued =
      TrainSteps(resumed, resumed_optimizer, state->step, 8, state->seed, schedule);
  EXPECT_EQ(continued, std::vector<double>(expected.begin() + 4, expected.end()));
}

TEST(TrainingState, LoadRejectsMissingFile) {
  auto state = LoadTrainingState("/nonexistent/state.pt");
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(state.status().message().find("/nonexistent/state.pt"), std::string::npos);
}

TEST(AdamW, MatchesReferenceUpdate) {
  torch::Tensor parameter = torch::tensor({1.0, -2.0}).set_requires_grad(true);
  AdamW optimizer({{"p", parameter}}, AdamWOptions{0.9, 0.999, 1e-8, 0.1});
  parameter.mutable_grad() = torch::tensor({0.5, -0.25});
  optimizer.Step(0.01);
  // Step 1: decay, then m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps).
  EXPECT_NEAR(parameter[0].item<double>(), 1.0 * (1 - 0.001) - 0.01, 1e-7);
  EXPECT_NEAR(parameter[1].item<double>(), -2.0 * (1 - 0.001) + 0.01, 1e-7);
  EXPECT_EQ(optimizer.step_count(), 1);
  EXPECT_EQ(optimizer.LoadState({}, 1).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClipGradientNorm, ScalesToMaxNorm) {
  torch::Tensor a = torch::zeros({2}).set_requires_grad(true);
  torch::Tensor b = torch::zeros({1}).set_requires_grad(true);
  a.mutable_grad() = torch::tensor({3.0, 0.0});
  b.mutable_grad() = torch::tensor({4.0});
  const double norm = ClipGradientNorm({{"a", a}, {"b", b}}, 1.0);
  EXPECT_NEAR(norm, 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-5);
  EXPECT_NEAR(ClipGradientNorm({{"a", a}, {"b", b}}, 10.0), 1.0, 1e-5);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-5);
}

TEST(LearningRateSchedule, WarmsUpThenDecays) {
  LearningRateSchedule cosine{1.0, 4, 14, LearningRateDecay::kCosine, 0.1};
  EXPECT_DOUBLE_EQ(cosine.LearningRateAt(0), 0.25);
  EXPECT_DOUBLE_EQ(cosine.LearningRateAt(3), 1.0);
  EXPECT_DOUBLE_EQ(cosine.LearningRateAt(4), 1.0);
  EXPECT_NEAR(cosine.LearningRateAt(9), 0.55, 1e-12);
  EXPECT_NEAR(cosine.LearningRateAt(14), 0.1, 1e-12);
  EXPECT_NEAR(cosine.LearningRateAt(100), 0.1, 1e-12);
  LearningRateSchedule linear{2.0, 0, 10, LearningRateDecay::kLinear, 0.0};
  EXPECT_DOUBLE_EQ(linear.LearningRateAt(0), 2.0);
  EXPECT_DOUBLE_EQ(linear.LearningRateAt(5), 1.0);
  LearningRateSchedule bad{1.0, -1, 10, LearningRateDecay::kLinear, 0.0};
  EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(cosine.Validate().ok());
}

}  // namespace
}  // namespace reftune::model
