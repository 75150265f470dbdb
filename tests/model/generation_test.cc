#include "core/model/generation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/model/stories_model.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::NewStories260kModel;
using ::reftune::model::testing::Stories260kCheckpoint;
using ::reftune::model::testing::Stories260kGolden;

std::vector<int64_t> GoldenGreedyIds() {
  return Stories260kGolden()["greedy_empty_prompt"]["ids"].get<std::vector<int64_t>>();
}

TEST(Generate, GreedyMatchesGoldenIdsAndText) {
  Transformer model = NewStories260kModel();
  std::vector<int64_t> golden = GoldenGreedyIds();
  GenerationOptions options;
  options.max_new_tokens = static_cast<int64_t>(golden.size()) - 1;
  auto generated = Generate(model, {{1}}, options);
  ASSERT_TRUE(generated.ok()) << generated.status();

  std::vector<int64_t> expected(golden.begin() + 1, golden.end());
  EXPECT_EQ((*generated)[0].tokens, expected);
  EXPECT_EQ((*generated)[0].finish_reason, FinishReason::kMaxNewTokens);
  ASSERT_NE(Stories260kCheckpoint().tokenizer, nullptr);
  EXPECT_EQ(Stories260kCheckpoint().tokenizer->Decode((*generated)[0].tokens),
            Stories260kGolden()["greedy_empty_prompt"]["text"].get<std::string>());
}

TEST(Generate, LeftPaddedBatchMatchesSingle) {
  Transformer model = NewStories260kModel();
  std::vector<int64_t> golden = GoldenGreedyIds();
  // Prompts of 1, 5 and 12 tokens: the two shorter ones are left-padded in the batch.
  const std::vector<std::vector<int64_t>> prompts = {
      {1}, {golden.begin(), golden.begin() + 5}, {1, 260, 300, 280, 400, 310, 290, 270, 330, 350, 360, 370}};
  GenerationOptions options;
  options.max_new_tokens = 40;
  auto batched = Generate(model, prompts, options);
  ASSERT_TRUE(batched.ok()) << batched.status();
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(i);
    auto alone = Generate(model, {prompts[i]}, options);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ((*batched)[i].tokens, (*alone)[0].tokens);
  }
}

TEST(Generate, SamplingIsSeeded) {
  Transformer model = NewStories260kModel();
  GenerationOptions options;
  options.max_new_tokens = 30;
  options.temperature = 1.0;
  options.top_p = 0.95;
  options.seed = 42;
  auto first = Generate(model, {{1}, {1}}, options);
  auto second = Generate(model, {{1}, {1}}, options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*first)[0].tokens, (*second)[0].tokens);
  EXPECT_EQ((*first)[1].tokens, (*second)[1].tokens);
  // Two rows with the same prompt draw different samples.
  EXPECT_NE((*first)[0].tokens, (*first)[1].tokens);
  options.seed = 43;
  auto third = Generate(model, {{1}, {1}}, options);
  ASSERT_TRUE(third.ok());
  EXPECT_NE((*first)[0].tokens, (*third)[0].tokens);
}

TEST(Generate, StopsAtEndOfAnswer) {
  Transformer model = NewStories260kModel();
  std::vector<int64_t> golden = GoldenGreedyIds();
  // Make the golden token at step 3 the end-of-answer token: greedy stops before it.
  Checkpoint checkpoint = Stories260kCheckpoint();
  checkpoint.config.end_of_answer_id = golden[4];
  auto stopping = CreateTransformer(checkpoint, torch::kCPU);
  ASSERT_TRUE(stopping.ok());
  GenerationOptions options;
  options.max_new_tokens = 50;
  auto generated = Generate(*stopping, {{1}}, options);
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ((*generated)[0].finish_reason, FinishReason::kEndOfAnswer);
  EXPECT_EQ((*generated)[0].tokens, std::vector<int64_t>(golden.begin() + 1, golden.begin() + 4));
}

TEST(Generate, RejectsBadRequests) {
  Transformer model = NewStories260kModel();
  GenerationOptions too_long;
  too_long.max_new_tokens = 600;
  GenerationOptions bad_top_p;
  bad_top_p.top_p = 0.0;
  struct Case {
    std::vector<std::vector<int64_t>> prompts;
    GenerationOptions options;
    const char* message;
  };
  const Case cases[] = {
      {{{1}}, too_long, "exceeds max_seq_len 512"},
      {{{1}}, bad_top_p, "top_p must be in (0, 1], got 0"},
      {{{1}, {}}, GenerationOptions(), "prompt 1 is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    auto generated = Generate(model, c.prompts, c.options);
    ASSERT_FALSE(generated.ok());
    EXPECT_EQ(generated.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(generated.status().message().find(c.message), std::string::npos)
        << generated.status();
  }
}

}  // namespace
}  // namespace reftune::model
