// Tests of Hugging Face Llama folders: stories260K converted from llama2.c and loaded back, a
// sentencepiece tokenizer.model, BF16 shards and the errors for unsupported folders.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "core/model/checkpoint.h"
#include "core/model/file_bytes.h"
#include "core/model/hf_config.h"
#include "core/model/llama2c_tokenizer.h"
#include "core/model/safetensors_torch.h"
#include "core/model/sentencepiece_tokenizer.h"
#include "core/model/transformer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::Stories260kDir;
using ::reftune::model::testing::Stories260kGoldenPath;
using ::reftune::model::testing::TempFolder;
using ::reftune::model::testing::TrainSentencePieceModel;

Checkpoint LoadStories260k() {
  auto checkpoint = LoadLlama2cCheckpoint(Stories260kDir() + "/stories260K.bin",
                                          Stories260kDir() + "/tok512.bin");
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  return checkpoint.ok() ? *std::move(checkpoint) : Checkpoint{};
}

// A small random Llama with separate lm_head and grouped-query attention, using `tokenizer`.
Checkpoint RandomCheckpoint(std::shared_ptr<const Tokenizer> tokenizer) {
  Checkpoint checkpoint;
  ModelConfig& config = checkpoint.config;
  config.dim = 16;
  config.hidden_dim = 24;
  config.n_layers = 2;
  config.n_heads = 4;
  config.n_kv_heads = 2;
  config.vocab_size = tokenizer->vocab_size();
  config.max_seq_len = 64;
  config.tied_embeddings = false;
  config.rope_style = RopeStyle::kHalf;
  config.end_of_answer_id = config.eos_id;
  torch::manual_seed(1234);
  for (const auto& [name, shape] : HuggingFaceWeightShapes(config)) {
    checkpoint.weights[name] = torch::randn(shape);
  }
  checkpoint.tokenizer = std::move(tokenizer);
  return checkpoint;
}

// Writes `text` to `folder`/config.json after applying `edit` to the JSON of `config`.
void WriteConfig(const std::string& folder, const ModelConfig& config,
                 const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json json = nlohmann::json::parse(HuggingFaceConfigJson(config));
  edit(json);
  ASSERT_TRUE(WriteFileBytes(folder + "/config.json", json.dump(), "config.json").ok());
}

void ExpectStatus(const absl::Status& status, absl::StatusCode code,
                  const std::vector<std::string>& fragments) {
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(status.message().find(fragment), std::string::npos)
        << "missing \"" << fragment << "\" in " << status;
  }
}

TEST(HuggingFaceCheckpoint, ConvertsStories260kWeights) {
  const Checkpoint original = LoadStories260k();
  ASSERT_FALSE(original.weights.empty());
  ASSERT_EQ(original.config.rope_style, RopeStyle::kInterleaved);
  TempFolder folder;
  const std::string out = folder.File("stories260K-hf");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(original, out).ok());
  EXPECT_TRUE(std::filesystem::exists(out + "/tokenizer.bin"));
  EXPECT_FALSE(std::filesystem::exists(out + "/tokenizer.model"));

  auto loaded = LoadHuggingFaceCheckpoint(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ModelConfig& config = loaded->config;
  EXPECT_EQ(config.rope_style, RopeStyle::kHalf);
  EXPECT_EQ(config.dim, 64);
  EXPECT_EQ(config.hidden_dim, 172);
  EXPECT_EQ(config.n_layers, 5);
  EXPECT_EQ(config.n_heads, 8);
  EXPECT_EQ(config.n_kv_heads, 4);
  EXPECT_EQ(config.vocab_size, 512);
  EXPECT_EQ(config.max_seq_len, original.config.max_seq_len);
  EXPECT_EQ(config.norm_eps, original.config.norm_eps);
  EXPECT_EQ(config.tied_embeddings, original.config.tied_embeddings);
  EXPECT_EQ(config.end_of_answer_id, original.config.bos_id);
  ASSERT_NE(dynamic_cast<const Llama2cTokenizer*>(loaded->tokenizer.get()), nullptr);
  EXPECT_EQ(loaded->tokenizer->Encode("Once upon a time", true, false),
            original.tokenizer->Encode("Once upon a time", true, false));

  ASSERT_EQ(loaded->weights.size(), original.weights.size());
  const int64_t head_dim = config.head_dim();
  for (const auto& [name, weight] : original.weights) {
    SCOPED_TRACE(name);
    ASSERT_EQ(loaded->weights.count(name), 1u);
    const torch::Tensor& converted = loaded->weights.at(name);
    const bool is_q = name.find("q_proj") != std::string::npos;
    const bool is_k = name.find("k_proj") != std::string::npos;
    if (!is_q && !is_k) {
      EXPECT_TRUE(torch::equal(converted, weight));
      continue;
    }
    // Row h * head_dim + i of the half layout is row h * head_dim + 2i (first half of the head)
    // or 2(i - head_dim / 2) + 1 (second half) of the interleaved layout.
    const int64_t heads = is_q ? config.n_heads : config.n_kv_heads;
    for (int64_t head = 0; head < heads; ++head) {
      for (int64_t i = 0; i < head_dim; ++i) {
        const int64_t source_row =
            i < head_dim / 2 ? 2 * i : 2 * (i - head_dim / 2) + 1;
        EXPECT_TRUE(torch::equal(converted[head * head_dim + i],
                                 weight[head * head_dim + source_row]))
            << "head " << head << " row " << i;
      }
    }
  }
}

TEST(HuggingFaceCheckpoint, ConvertedLogitsMatchLlama2c) {
  const Checkpoint original = LoadStories260k();
  ASSERT_FALSE(original.weights.empty());
  TempFolder folder;
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(original, folder.File("hf")).ok());
  auto converted = LoadHuggingFaceCheckpoint(folder.File("hf"));
  ASSERT_TRUE(converted.ok()) << converted.status();

  std::ifstream golden_file(Stories260kGoldenPath());
  const nlohmann::json golden = nlohmann::json::parse(golden_file);
  const std::vector<int64_t> ids = golden["logits_first16_positions"]["ids"];
  const torch::Tensor input = torch::tensor(ids, torch::kLong).unsqueeze(0);

  auto llama2c_model = CreateTransformer(original, torch::kCPU);
  auto hf_model = CreateTransformer(*converted, torch::kCPU);
  ASSERT_TRUE(llama2c_model.ok()) << llama2c_model.status();
  ASSERT_TRUE(hf_model.ok()) << hf_model.status();
  torch::NoGradGuard no_grad;
  auto llama2c_out = (*llama2c_model)->Forward(input, torch::Tensor(), ForwardOptions{});
  auto hf_out = (*hf_model)->Forward(input, torch::Tensor(), ForwardOptions{});
  ASSERT_TRUE(llama2c_out.ok()) << llama2c_out.status();
  ASSERT_TRUE(hf_out.ok()) << hf_out.status();

  const double max_difference =
      (llama2c_out->logits - hf_out->logits).abs().max().item<double>();
  EXPECT_LT(max_difference, 1e-5);
  const std::vector<int64_t> golden_argmax = golden["logits_first16_positions"]["argmax"];
  const torch::Tensor argmax = hf_out->logits[0].argmax(-1).contiguous();
  EXPECT_EQ(std::vector<int64_t>(argmax.data_ptr<int64_t>(),
                                 argmax.data_ptr<int64_t>() + argmax.numel()),
            golden_argmax);
}

TEST(HuggingFaceCheckpoint, LoadsSentencePieceFolder) {
  TempFolder folder;
  const std::string model_path = TrainSentencePieceModel(folder.path());
  ASSERT_FALSE(model_path.empty());
  auto tokenizer = LoadSentencePieceTokenizer(model_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Checkpoint original = RandomCheckpoint(std::move(tokenizer).value());

  const std::string out = folder.File("tiny-hf");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(original, out).ok());
  EXPECT_TRUE(std::filesystem::exists(out + "/tokenizer.model"));
  auto loaded = LoadHuggingFaceCheckpoint(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  ASSERT_NE(dynamic_cast<const SentencePieceTokenizer*>(loaded->tokenizer.get()), nullptr);
  const std::string text = "The cat saw a happy bird.";
  EXPECT_EQ(loaded->tokenizer->Encode(text, true, true),
            original.tokenizer->Encode(text, true, true));
  EXPECT_EQ(loaded->config.end_of_answer_id, loaded->config.eos_id);
  EXPECT_FALSE(loaded->config.tied_embeddings);
  ASSERT_EQ(loaded->weights.size(), original.weights.size());
  for (const auto& [name, weight] : original.weights) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(torch::equal(loaded->weights.at(name), weight));
  }
}

TEST(HuggingFaceCheckpoint, LoadsShardedBf16Folder) {
  TempFolder folder;
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Checkpoint original = RandomCheckpoint(std::move(tokenizer).value());
  const std::string out = folder.File("sharded");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(original, out).ok());

  // Replace model.safetensors with two BF16 shards and their index.
  std::map<std::string, torch::Tensor> first;
  std::map<std::string, torch::Tensor> second;
  nlohmann::json weight_map = nlohmann::json::object();
  for (const auto& [name, weight] : original.weights) {
    const bool in_first = name.rfind("model.layers.1.", 0) != 0;
    (in_first ? first : second)[name] = weight;
    weight_map[name] = in_first ? "model-00001-of-00002.safetensors"
                                : "model-00002-of-00002.safetensors";
  }
  std::filesystem::remove(out + "/model.safetensors");
  ASSERT_TRUE(WriteTorchSafetensors(out + "/model-00001-of-00002.safetensors", first,
                                    SafetensorsDtype::kBF16)
                  .ok());
  ASSERT_TRUE(WriteTorchSafetensors(out + "/model-00002-of-00002.safetensors", second,
                                    SafetensorsDtype::kBF16)
                  .ok());
  const nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}};
  ASSERT_TRUE(
      WriteFileBytes(out + "/model.safetensors.index.json", index.dump(), "index").ok());

  auto loaded = LoadHuggingFaceCheckpoint(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->weights.size(), original.weights.size());
  for (const auto& [name, weight] : original.weights) {
    SCOPED_TRACE(name);
    const torch::Tensor rounded = weight.to(torch::kBFloat16).to(torch::kFloat);
    EXPECT_EQ(loaded->weights.at(name).scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(loaded->weights.at(name), rounded));
  }
}

TEST(HuggingFaceCheckpoint, RejectsTokenizerJsonOnly) {
  TempFolder folder;
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::string out = folder.File("hf");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(RandomCheckpoint(std::move(tokenizer).value()), out).ok());
  std::filesystem::remove(out + "/tokenizer.bin");
  ASSERT_TRUE(WriteFileBytes(out + "/tokenizer.json", "{}", "tokenizer.json").ok());

  ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kInvalidArgument,
               {out, "byte-level BPE tokenizer.json is not supported; provide tokenizer.model"});

  std::filesystem::remove(out + "/tokenizer.json");
  ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kNotFound,
               {out, "has no tokenizer.model"});
}

TEST(HuggingFaceCheckpoint, RejectsUnsupportedConfigs) {
  TempFolder folder;
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Checkpoint checkpoint = RandomCheckpoint(std::move(tokenizer).value());
  const std::string out = folder.File("hf");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(checkpoint, out).ok());

  struct Case {
    std::string name;
    std::function<void(nlohmann::json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"model_type", [](nlohmann::json& j) { j["model_type"] = "gpt2"; },
       "field model_type is \"gpt2\"; reftune supports only \"llama\""},
      {"rope_scaling",
       [](nlohmann::json& j) { j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; },
       "field rope_scaling is {\"factor\":2.0,\"type\":\"linear\"}"},
      {"missing hidden_size", [](nlohmann::json& j) { j.erase("hidden_size"); },
       "field hidden_size is missing"},
      {"negative layers", [](nlohmann::json& j) { j["num_hidden_layers"] = -3; },
       "field num_hidden_layers must be an integer >= 1, got -3"},
      {"gelu", [](nlohmann::json& j) { j["hidden_act"] = "gelu"; }, "field hidden_act"},
      {"attention bias", [](nlohmann::json& j) { j["attention_bias"] = true; },
       "field attention_bias is true"},
      {"kv heads", [](nlohmann::json& j) { j["num_key_value_heads"] = 3; },
       "field num_key_value_heads 3 must divide num_attention_heads 4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WriteConfig(out, checkpoint.config, c.edit);
    ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kInvalidArgument,
                 {out + "/config.json", c.message});
  }
}

TEST(HuggingFaceCheckpoint, NamesMissingAndMisshapedTensors) {
  TempFolder folder;
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Checkpoint checkpoint = RandomCheckpoint(std::move(tokenizer).value());
  const std::string out = folder.File("hf");
  ASSERT_TRUE(SaveHuggingFaceCheckpoint(checkpoint, out).ok());
  const std::string weights_path = out + "/model.safetensors";

  std::map<std::string, torch::Tensor> weights = checkpoint.weights;
  weights["model.layers.1.mlp.up_proj.weight"] = torch::zeros({24, 8});
  ASSERT_TRUE(WriteTorchSafetensors(weights_path, weights).ok());
  ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kInvalidArgument,
               {weights_path, "tensor model.layers.1.mlp.up_proj.weight has shape [24, 8]",
                "config.json implies [24, 16]"});

  weights.erase("model.layers.1.mlp.up_proj.weight");
  ASSERT_TRUE(WriteTorchSafetensors(weights_path, weights).ok());
  ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kInvalidArgument,
               {weights_path, "tensor model.layers.1.mlp.up_proj.weight with shape [24, 16] is "
                              "missing"});

  weights = checkpoint.weights;
  weights["model.layers.0.self_attn.q_proj.bias"] = torch::zeros({16});
  ASSERT_TRUE(WriteTorchSafetensors(weights_path, weights).ok());
  ExpectStatus(LoadHuggingFaceCheckpoint(out).status(), absl::StatusCode::kInvalidArgument,
               {weights_path, "tensor model.layers.0.self_attn.q_proj.bias, which is no weight"});
}

TEST(HuggingFaceCheckpoint, SaveRejectsNonEmptyFolder) {
  TempFolder folder;
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Checkpoint checkpoint = RandomCheckpoint(std::move(tokenizer).value());
  ASSERT_TRUE(WriteFileBytes(folder.File("stale.txt"), "x", "test file").ok());
  ExpectStatus(SaveHuggingFaceCheckpoint(checkpoint, folder.path()),
               absl::StatusCode::kFailedPrecondition, {folder.path(), "is not empty"});

  Checkpoint missing = checkpoint;
  missing.weights.erase("model.norm.weight");
  ExpectStatus(SaveHuggingFaceCheckpoint(missing, folder.File("new")),
               absl::StatusCode::kInvalidArgument, {"model.norm.weight", "[16]"});
}

}  // namespace
}  // namespace reftune::model
