#include "core/method/refusal_feature.h"

#include "core/data/prompt_template.h"
#include "gtest/gtest.h"
#include "tests/method/method_test_support.h"

namespace reftune::method {
namespace {

TEST(RefusalFeature, MeanDifferenceOnConstructedFeatures) {
  const torch::Tensor harmful = torch::tensor({{1.0, 0.0}, {3.0, 2.0}});
  const torch::Tensor harmless = torch::tensor({{0.0, 1.0}, {0.0, 3.0}, {0.0, 5.0}});
  auto refusal = RefusalFeatureFromFeatures(harmful, harmless);
  ASSERT_TRUE(refusal.ok()) << refusal.status();
  EXPECT_TRUE(torch::allclose(*refusal, torch::tensor({2.0, -2.0})));

  const torch::Tensor cosine = RefusalCosine(torch::tensor({{1.0, -1.0}, {-1.0, 1.0}}), *refusal);
  EXPECT_NEAR(cosine[0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(cosine[1].item<double>(), -1.0, 1e-6);
}

TEST(RefusalFeature, RejectsEmptySide) {
  auto refusal = RefusalFeatureFromFeatures(torch::zeros({0, 2}), torch::ones({1, 2}));
  EXPECT_EQ(refusal.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refusal.status().message().find("harmful"), std::string::npos);
}

TEST(PromptFeatures, BatchedMatchesSinglePromptForward) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  const data::PromptTemplate prompt_template = data::PromptTemplate::Short();
  std::vector<EncodedExample> prompts;
  for (const char* text : {"Tell me a story.", "How do I steal a very fast red car today?"}) {
    data::Record record;
    record.prompt = text;
    auto example = EncodeExample(*tiny->checkpoint.tokenizer, prompt_template, record, false, {});
    ASSERT_TRUE(example.ok()) << example.status();
    prompts.push_back(*example);
  }

  FeatureOptions options;
  options.layers = {1, 3};
  options.batch_size = 2;
  auto features = ComputePromptFeatures(tiny->model, prompts, options);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 2u);

  // The right-padded batch must give each prompt's own last-token residual.
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(i);
    model::ForwardOptions forward;
    forward.hidden_layers = {3};
    const torch::Tensor ids = torch::tensor(prompts[i].ids).unsqueeze(0);
    auto output = tiny->model->Forward(ids, torch::Tensor(), forward);
    ASSERT_TRUE(output.ok()) << output.status();
    const torch::Tensor expected = output->hidden_states[0][0][prompts[i].prompt_length - 1];
    EXPECT_TRUE(torch::allclose((*features)[1][i], expected, 1e-4, 1e-5));
  }
}

}  // namespace
}  // namespace reftune::method
