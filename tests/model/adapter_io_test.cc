// Tests of PEFT adapter folders: the layout checked with reftune's own safetensors reader, exact
// round trips, import into the transformer and rejection of malformed folders.
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "core/model/adapter_io.h"
#include "core/model/file_bytes.h"
#include "core/model/safetensors.h"
#include "core/model/safetensors_torch.h"
#include "core/model/transformer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model/stories_model.h"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::IdsTensor;
using ::reftune::model::testing::NewStories260kModel;
using ::reftune::model::testing::TempFolder;

LoraConfig SmallLoraConfig() {
  LoraConfig config;
  config.r = 4;
  config.lora_alpha = 8.0;
  config.lora_dropout = 0.05;
  config.target_modules = {"q_proj", "v_proj", "down_proj"};
  config.base_model_name_or_path = "stories260K";
  return config;
}

// An adapter exported from a real transformer, with random lora_B so that it changes outputs.
AdapterFiles TrainedLookingAdapter(Transformer& model) {
  AdapterFiles adapter;
  adapter.config = SmallLoraConfig();
  EXPECT_TRUE(model->AddAdapter("original", adapter.config, /*seed=*/5).ok());
  auto tensors = model->ExportAdapter("original");
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  torch::manual_seed(11);
  for (auto& [name, tensor] : *tensors) {
    if (name.find("lora_B") != std::string::npos) tensor = torch::randn(tensor.sizes()) * 0.1;
  }
  EXPECT_TRUE(model->LoadAdapterTensors("original", *tensors).ok());
  adapter.tensors = *std::move(tensors);
  adapter.metadata = {{"prompt_template", "### Question:\n{prompt}\n### Answer:\n"},
                      {"teacher_layer", 3}};
  return adapter;
}

void ExpectStatus(const absl::Status& status, absl::StatusCode code,
                  const std::vector<std::string>& fragments) {
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(status.message().find(fragment), std::string::npos)
        << "missing \"" << fragment << "\" in " << status;
  }
}

TEST(AdapterFiles, WritesPeftLayout) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model);
  const AdapterFiles adapter = TrainedLookingAdapter(model);
  const ModelConfig& config = model->config();
  TempFolder folder;
  ASSERT_TRUE(SaveAdapter(folder.path(), adapter, config).ok());

  // adapter_config.json carries the PEFT fields and nothing of reftune's own.
  auto config_text = ReadFileBytes(folder.File("adapter_config.json"), "adapter config");
  ASSERT_TRUE(config_text.ok()) << config_text.status();
  const nlohmann::json json = nlohmann::json::parse(*config_text);
  EXPECT_EQ(json["peft_type"], "LORA");
  EXPECT_EQ(json["task_type"], "CAUSAL_LM");
  EXPECT_EQ(json["r"], 4);
  EXPECT_EQ(json["lora_alpha"], 8.0);
  EXPECT_EQ(json["lora_dropout"], 0.05);
  EXPECT_EQ(json["target_modules"], nlohmann::json({"q_proj", "v_proj", "down_proj"}));
  EXPECT_EQ(json["base_model_name_or_path"], "stories260K");
  EXPECT_EQ(json["bias"], "none");
  EXPECT_EQ(json["fan_in_fan_out"], false);
  EXPECT_EQ(json["inference_mode"], true);
  EXPECT_FALSE(json.contains("prompt_template"));
  EXPECT_FALSE(json.contains("teacher_layer"));

  auto metadata_text = ReadFileBytes(folder.File("reftune.json"), "metadata");
  ASSERT_TRUE(metadata_text.ok()) << metadata_text.status();
  EXPECT_EQ(nlohmann::json::parse(*metadata_text)["teacher_layer"], 3);

  // adapter_model.safetensors: F32 lora_A [r, in] and lora_B [out, r] under PEFT names.
  auto file = SafetensorsFile::Read(folder.File("adapter_model.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  const std::regex key_pattern(
      R"(base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)_proj\.lora_(A|B)\.weight)");
  const std::map<std::string, std::pair<int64_t, int64_t>> out_in = {
      {"q", {config.dim, config.dim}},
      {"v", {config.n_kv_heads * config.head_dim(), config.dim}},
      {"down", {config.dim, config.hidden_dim}}};
  std::set<std::string> seen;
  for (const SafetensorsTensorInfo& tensor : file->tensors()) {
    SCOPED_TRACE(tensor.name);
    std::smatch match;
    ASSERT_TRUE(std::regex_match(tensor.name, match, key_pattern));
    const int layer = std::stoi(match[1]);
    const std::string projection = match[3];
    EXPECT_LT(layer, config.n_layers);
    EXPECT_EQ(match[2], projection == "down" ? "mlp" : "self_attn");
    ASSERT_EQ(out_in.count(projection), 1u);
    const auto [out_features, in_features] = out_in.at(projection);
    EXPECT_EQ(tensor.dtype, SafetensorsDtype::kF32);
    if (match[4] == "A") {
      EXPECT_EQ(tensor.shape, (std::vector<int64_t>{4, in_features}));
    } else {
      EXPECT_EQ(tensor.shape, (std::vector<int64_t>{out_features, 4}));
    }
    seen.insert(tensor.name);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(config.n_layers * 3 * 2));
  EXPECT_EQ(file->Find("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight")->shape,
            (std::vector<int64_t>{64, 4}));
}

TEST(AdapterFiles, RoundTripsExactly) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model);
  const AdapterFiles adapter = TrainedLookingAdapter(model);
  TempFolder folder;
  ASSERT_TRUE(SaveAdapter(folder.path(), adapter, model->config()).ok());

  auto loaded = LoadAdapter(folder.path(), model->config());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.r, adapter.config.r);
  EXPECT_EQ(loaded->config.lora_alpha, adapter.config.lora_alpha);
  EXPECT_EQ(loaded->config.lora_dropout, adapter.config.lora_dropout);
  EXPECT_EQ(loaded->config.target_modules, adapter.config.target_modules);
  EXPECT_EQ(loaded->config.base_model_name_or_path, adapter.config.base_model_name_or_path);
  EXPECT_EQ(loaded->metadata, adapter.metadata);
  ASSERT_EQ(loaded->tensors.size(), adapter.tensors.size());
  for (const auto& [name, tensor] : adapter.tensors) {
    SCOPED_TRACE(name);
    ASSERT_EQ(loaded->tensors.count(name), 1u);
    EXPECT_TRUE(torch::equal(loaded->tensors.at(name), tensor));
  }

  // Saving again without metadata removes the earlier reftune.json.
  AdapterFiles without_metadata = adapter;
  without_metadata.metadata = nullptr;
  ASSERT_TRUE(SaveAdapter(folder.path(), without_metadata, model->config()).ok());
  EXPECT_FALSE(std::filesystem::exists(folder.File("reftune.json")));
  auto reloaded = LoadAdapter(folder.path(), model->config());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(reloaded->metadata.is_null());
}

TEST(AdapterFiles, LoadedAdapterGivesSameLogits) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model);
  const AdapterFiles adapter = TrainedLookingAdapter(model);
  TempFolder folder;
  ASSERT_TRUE(SaveAdapter(folder.path(), adapter, model->config()).ok());
  auto loaded = LoadAdapter(folder.path(), model->config());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(model->ImportAdapter("loaded", loaded->config, loaded->tensors).ok());

  torch::NoGradGuard no_grad;
  const torch::Tensor ids = IdsTensor({1, 403, 407, 261, 378, 432});
  ForwardOptions original_options;
  original_options.adapter = "original";
  ForwardOptions loaded_options;
  loaded_options.adapter = "loaded";
  auto original_out = model->Forward(ids, torch::Tensor(), original_options);
  auto loaded_out = model->Forward(ids, torch::Tensor(), loaded_options);
  auto base_out = model->Forward(ids, torch::Tensor(), ForwardOptions{});
  ASSERT_TRUE(original_out.ok()) << original_out.status();
  ASSERT_TRUE(loaded_out.ok()) << loaded_out.status();
  ASSERT_TRUE(base_out.ok()) << base_out.status();
  EXPECT_TRUE(torch::equal(original_out->logits, loaded_out->logits));
  EXPECT_FALSE(torch::allclose(original_out->logits, base_out->logits));
}

TEST(AdapterFiles, LoadRejectsMalformedFolders) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model);
  const AdapterFiles adapter = TrainedLookingAdapter(model);
  const ModelConfig& config = model->config();
  const std::string q_a = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";

  struct Case {
    std::string name;
    // Edits the saved adapter_config.json and the tensors written to adapter_model.safetensors.
    std::function<void(nlohmann::json&, std::map<std::string, torch::Tensor>&)> edit;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"prompt tuning", [](auto& json, auto&) { json["peft_type"] = "PROMPT_TUNING"; },
       {"adapter_config.json", "field peft_type is \"PROMPT_TUNING\"; expected \"LORA\""}},
      {"r mismatch", [](auto& json, auto&) { json["r"] = 8; },
       {"adapter_model.safetensors",
        "tensor base_model.model.model.layers.0.mlp.down_proj.lora_A.weight has shape [4, 172]; "
        "expected [8, 172] for r 8"}},
      {"missing tensor", [&q_a](auto&, auto& tensors) { tensors.erase(q_a); },
       {"adapter_model.safetensors", "has no tensor " + q_a, "expected shape [4, 64]"}},
      {"extra tensor",
       [](auto&, auto& tensors) {
         tensors["base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"] =
             torch::zeros({4, 64});
       },
       {"has tensor base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight",
        "target_modules [q_proj, v_proj, down_proj]"}},
      {"bias", [](auto& json, auto&) { json["bias"] = "all"; }, {"field bias is \"all\""}},
      {"dora", [](auto& json, auto&) { json["use_dora"] = true; }, {"field use_dora is true"}},
      {"regex targets", [](auto& json, auto&) { json["target_modules"] = ".*proj"; },
       {"field target_modules", "regular expressions are not supported"}},
      {"unknown module", [](auto& json, auto&) { json["target_modules"] = {"c_attn"}; },
       {"unknown Llama projection c_attn"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempFolder folder;
    ASSERT_TRUE(SaveAdapter(folder.path(), adapter, config).ok());
    nlohmann::json json =
        nlohmann::json::parse(*ReadFileBytes(folder.File("adapter_config.json"), "config"));
    std::map<std::string, torch::Tensor> tensors = adapter.tensors;
    c.edit(json, tensors);
    ASSERT_TRUE(WriteFileBytes(folder.File("adapter_config.json"), json.dump(), "config").ok());
    ASSERT_TRUE(WriteTorchSafetensors(folder.File("adapter_model.safetensors"), tensors).ok());
    ExpectStatus(LoadAdapter(folder.path(), config).status(), absl::StatusCode::kInvalidArgument,
                 c.fragments);
  }

  TempFolder pickle_only;
  ASSERT_TRUE(SaveAdapter(pickle_only.path(), adapter, config).ok());
  std::filesystem::rename(pickle_only.File("adapter_model.safetensors"),
                          pickle_only.File("adapter_model.bin"));
  ExpectStatus(LoadAdapter(pickle_only.path(), config).status(),
               absl::StatusCode::kInvalidArgument, {"adapter_model.bin", "safe_serialization"});
}

TEST(AdapterFiles, SaveRejectsWrongShapes) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model);
  const AdapterFiles adapter = TrainedLookingAdapter(model);
  const std::string v_b = "base_model.model.model.layers.2.self_attn.v_proj.lora_B.weight";
  TempFolder folder;
  const std::string out = folder.File("adapter");

  AdapterFiles missing = adapter;
  missing.tensors.erase(v_b);
  ExpectStatus(SaveAdapter(out, missing, model->config()), absl::StatusCode::kInvalidArgument,
               {"has no tensor " + v_b, "expected shape [32, 4]"});

  AdapterFiles misshaped = adapter;
  misshaped.tensors[v_b] = torch::zeros({64, 4});
  ExpectStatus(SaveAdapter(out, misshaped, model->config()), absl::StatusCode::kInvalidArgument,
               {"tensor " + v_b + " has shape [64, 4]; expected [32, 4]"});
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace reftune::model
