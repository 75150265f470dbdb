#include "core/model/transformer.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/model/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/model/stories_model.h"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::IdsTensor;
using ::reftune::model::testing::NewStories260kModel;
using ::reftune::model::testing::Stories260kCheckpoint;
using ::reftune::model::testing::Stories260kDir;
using ::reftune::model::testing::Stories260kGolden;
using ::reftune::model::testing::TempFolder;

constexpr double kGoldenTolerance = 1e-4;

std::vector<int64_t> GoldenLogitIds() {
  return Stories260kGolden()["logits_first16_positions"]["ids"].get<std::vector<int64_t>>();
}

TEST(Llama2cCheckpoint, ReadsStories260kHeader) {
  const ModelConfig& config = Stories260kCheckpoint().config;
  const nlohmann::json& golden = Stories260kGolden()["config"];
  EXPECT_EQ(config.dim, golden["dim"].get<int64_t>());
  EXPECT_EQ(config.hidden_dim, golden["hidden_dim"].get<int64_t>());
  EXPECT_EQ(config.n_layers, golden["n_layers"].get<int64_t>());
  EXPECT_EQ(config.n_heads, golden["n_heads"].get<int64_t>());
  EXPECT_EQ(config.n_kv_heads, golden["n_kv_heads"].get<int64_t>());
  EXPECT_EQ(config.vocab_size, golden["vocab_size"].get<int64_t>());
  EXPECT_EQ(config.max_seq_len, golden["max_seq_len"].get<int64_t>());
  EXPECT_EQ(config.tied_embeddings, golden["shared_classifier"].get<bool>());
  EXPECT_EQ(config.rope_style, RopeStyle::kInterleaved);
  EXPECT_EQ(config.end_of_answer_id, config.bos_id);
  ASSERT_NE(Stories260kCheckpoint().tokenizer, nullptr);
  EXPECT_EQ(Stories260kCheckpoint().tokenizer->vocab_size(), config.vocab_size);
}

TEST(Llama2cCheckpoint, RejectsTruncatedFile) {
  TempFolder folder;
  std::ifstream in(Stories260kDir() + "/stories260K.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = folder.File("truncated.bin");
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size() - 100);

  auto loaded = LoadLlama2cCheckpoint(path, "");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find(std::to_string(bytes.size())), std::string::npos)
      << loaded.status();
}

TEST(Llama2cCheckpoint, RejectsMissingFile) {
  auto loaded = LoadLlama2cCheckpoint("/nonexistent/model.bin", "");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(Transformer, LogitsMatchGolden) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  auto output = model->Forward(IdsTensor(GoldenLogitIds()), torch::Tensor(), ForwardOptions());
  ASSERT_TRUE(output.ok()) << output.status();
  torch::Tensor logits = output->logits[0].to(torch::kFloat64);

  const nlohmann::json& golden = Stories260kGolden()["logits_first16_positions"];
  const std::pair<const char*, int64_t> rows[] = {{"first8_at_pos0", 0}, {"first8_at_pos15", 15}};
  for (const auto& [key, position] : rows) {
    SCOPED_TRACE(key);
    std::vector<double> expected = golden[key].get<std::vector<double>>();
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_NEAR(logits[position][i].item<double>(), expected[i], kGoldenTolerance) << "i " << i;
    }
  }
  std::vector<double> logsumexp = golden["logsumexp"].get<std::vector<double>>();
  std::vector<int64_t> argmax = golden["argmax"].get<std::vector<int64_t>>();
  for (int64_t position = 0; position < 16; ++position) {
    SCOPED_TRACE(position);
    EXPECT_NEAR(torch::logsumexp(logits[position], 0).item<double>(), logsumexp[position],
                kGoldenTolerance);
    EXPECT_EQ(logits[position].argmax().item<int64_t>(), argmax[position]);
  }
}

TEST(Transformer, HiddenNormsMatchGolden) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  ForwardOptions options;
  options.hidden_layers = {0, 1, 2, 3, 4};
  auto output = model->Forward(IdsTensor(GoldenLogitIds()), torch::Tensor(), options);
  ASSERT_TRUE(output.ok()) << output.status();

  std::vector<double> expected =
      Stories260kGolden()["hidden_state_last_token_norms"].get<std::vector<double>>();
  ASSERT_EQ(output->hidden_states.size(), expected.size());
  for (size_t layer = 0; layer < expected.size(); ++layer) {
    SCOPED_TRACE(layer);
    torch::Tensor at_15 = output->hidden_states[layer][0][15].to(torch::kFloat64);
    EXPECT_NEAR(at_15.norm().item<double>(), expected[layer], kGoldenTolerance);
  }
}

TEST(Transformer, HiddenOnlySkipsUpperBlocks) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  torch::Tensor ids = IdsTensor(GoldenLogitIds());
  ForwardOptions options;
  options.hidden_layers = {2};
  auto before = model->Forward(ids, torch::Tensor(), options);
  ASSERT_TRUE(before.ok()) << before.status();

  // NaN weights in block 3 reach the logits but not a forward that stops after block 2.
  model->NamedBaseWeights().at("model.layers.3.mlp.down_proj.weight").fill_(NAN);
  options.compute_logits = false;
  auto early = model->Forward(ids, torch::Tensor(), options);
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_FALSE(early->logits.defined());
  EXPECT_TRUE(torch::equal(early->hidden_states[0], before->hidden_states[0]));

  auto full = model->Forward(ids, torch::Tensor(), ForwardOptions());
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(torch::isnan(full->logits).any().item<bool>());
}

// Moves each head's q/k rows from the (2i, 2i + 1) pairing to the (i, i + head_dim / 2) one, as
// the Hugging Face conversion script does.
torch::Tensor InterleavedToHalf(const torch::Tensor& weight, int64_t heads) {
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  return weight.view({heads, rows / heads / 2, 2, columns}).transpose(1, 2).reshape({rows, columns});
}

TEST(Transformer, RopeStylesAgreeAfterPermutation) {
  Checkpoint half = Stories260kCheckpoint();
  half.config.rope_style = RopeStyle::kHalf;
  half.weights.clear();
  for (const auto& [name, tensor] : Stories260kCheckpoint().weights) {
    if (name.find("q_proj") != std::string::npos) {
      half.weights[name] = InterleavedToHalf(tensor, half.config.n_heads);
    } else if (name.find("k_proj") != std::string::npos) {
      half.weights[name] = InterleavedToHalf(tensor, half.config.n_kv_heads);
    } else {
      half.weights[name] = tensor;
    }
  }
  auto half_model = CreateTransformer(half, torch::kCPU);
  ASSERT_TRUE(half_model.ok()) << half_model.status();
  Transformer interleaved_model = NewStories260kModel();

  torch::InferenceMode inference_mode;
  torch::Tensor ids = IdsTensor(GoldenLogitIds());
  auto expected = interleaved_model->Forward(ids, torch::Tensor(), ForwardOptions());
  auto actual = (*half_model)->Forward(ids, torch::Tensor(), ForwardOptions());
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_TRUE(actual.ok()) << actual.status();
  EXPECT_LT((expected->logits - actual->logits).abs().max().item<double>(), 1e-4);

  // Without the permutation the half pairing computes something else.
  Checkpoint unpermuted = Stories260kCheckpoint();
  unpermuted.config.rope_style = RopeStyle::kHalf;
  auto wrong_model = CreateTransformer(unpermuted, torch::kCPU);
  ASSERT_TRUE(wrong_model.ok());
  auto wrong = (*wrong_model)->Forward(ids, torch::Tensor(), ForwardOptions());
  ASSERT_TRUE(wrong.ok());
  EXPECT_GT((expected->logits - wrong->logits).abs().max().item<double>(), 1e-2);
}

TEST(Transformer, PaddingDoesNotChangeLogits) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  std::vector<int64_t> ids = GoldenLogitIds();
  std::vector<int64_t> short_ids(ids.begin(), ids.begin() + 9);
  auto alone = model->Forward(IdsTensor(short_ids), torch::Tensor(), ForwardOptions());
  ASSERT_TRUE(alone.ok());

  const std::pair<const char*, bool> cases[] = {{"right padding", false}, {"left padding", true}};
  for (const auto& [label, left] : cases) {
    SCOPED_TRACE(label);
    torch::Tensor batch = torch::zeros({2, 16}, torch::kInt64);
    torch::Tensor mask = torch::zeros({2, 16}, torch::kInt64);
    batch[0].copy_(IdsTensor(ids)[0]);
    mask[0].fill_(1);
    const int64_t start = left ? 16 - 9 : 0;
    batch[1].narrow(0, start, 9).copy_(IdsTensor(short_ids)[0]);
    mask[1].narrow(0, start, 9).fill_(1);

    auto padded = model->Forward(batch, mask, ForwardOptions());
    ASSERT_TRUE(padded.ok()) << padded.status();
    torch::Tensor real = padded->logits[1].narrow(0, start, 9);
    EXPECT_LT((real - alone->logits[0]).abs().max().item<double>(), 1e-4);
  }
}

TEST(Transformer, LastTokenHiddenIgnoresPadding) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  std::vector<int64_t> ids = GoldenLogitIds();
  std::vector<int64_t> short_ids(ids.begin(), ids.begin() + 6);
  ForwardOptions options;
  options.hidden_layers = {2};
  options.compute_logits = false;
  auto alone = model->Forward(IdsTensor(short_ids), torch::Tensor(), options);
  ASSERT_TRUE(alone.ok()) << alone.status();
  torch::Tensor expected = SelectLastTokens(alone->hidden_states[0], torch::Tensor())[0];

  for (const bool left : {false, true}) {
    SCOPED_TRACE(left ? "left padding" : "right padding");
    torch::Tensor batch = torch::zeros({2, 16}, torch::kInt64);
    torch::Tensor mask = torch::zeros({2, 16}, torch::kInt64);
    batch[0].copy_(IdsTensor(ids)[0]);
    mask[0].fill_(1);
    const int64_t start = left ? 16 - 6 : 0;
    batch[1].narrow(0, start, 6).copy_(IdsTensor(short_ids)[0]);
    mask[1].narrow(0, start, 6).fill_(1);
    auto padded = model->Forward(batch, mask, options);
    ASSERT_TRUE(padded.ok()) << padded.status();
    torch::Tensor last = SelectLastTokens(padded->hidden_states[0], mask);
    ASSERT_EQ(last.sizes().vec(), (std::vector<int64_t>{2, 64}));
    EXPECT_LT((last[1] - expected).abs().max().item<double>(), 1e-5);
    EXPECT_TRUE(torch::equal(last[0], padded->hidden_states[0][0][15]));
  }
}

TEST(Transformer, RejectsBadInputs) {
  Transformer model = NewStories260kModel();
  torch::InferenceMode inference_mode;
  ForwardOptions unknown_adapter;
  unknown_adapter.adapter = "missing";
  ForwardOptions bad_layer;
  bad_layer.hidden_layers = {5};
  struct Case {
    const char* label;
    torch::Tensor ids;
    ForwardOptions options;
    absl::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"id above vocab", IdsTensor({1, 512}), ForwardOptions(), absl::StatusCode::kInvalidArgument,
       "input_ids must be in [0, 512)"},
      {"too long", torch::ones({1, 513}, torch::kInt64), ForwardOptions(),
       absl::StatusCode::kOutOfRange, "max_seq_len 512"},
      {"unknown adapter", IdsTensor({1}), unknown_adapter, absl::StatusCode::kNotFound,
       "adapter \"missing\""},
      {"hidden layer", IdsTensor({1}), bad_layer, absl::StatusCode::kInvalidArgument,
       "hidden layer must be in [0, 5), got 5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    auto output = model->Forward(c.ids, torch::Tensor(), c.options);
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(output.status().code(), c.code);
    EXPECT_NE(output.status().message().find(c.message), std::string::npos) << output.status();
  }
}

TEST(Transformer, LoadWeightsNamesBadShape) {
  Checkpoint checkpoint = Stories260kCheckpoint();
  checkpoint.weights["model.layers.1.self_attn.k_proj.weight"] = torch::zeros({64, 64});
  auto model = CreateTransformer(checkpoint, torch::kCPU);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(
                "tensor model.layers.1.self_attn.k_proj.weight has shape [64, 64], expected [32, 64]"),
            std::string::npos)
      << model.status();
}

TEST(ModelConfig, RejectsHeadsNotDividingKvHeads) {
  ModelConfig config = Stories260kCheckpoint().config;
  config.n_kv_heads = 3;
  absl::Status status = ValidateModelConfig(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("n_kv_heads 3"), std::string::npos) << status;
}

}  // namespace
}  // namespace reftune::model
