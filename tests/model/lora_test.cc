#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/model/lora_config.h"
#include "core/model/transformer.h"
#include "gtest/gtest.h"
#include "tests/model/stories_model.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::IdsTensor;
using ::reftune::model::testing::NewStories260kModel;
using ::reftune::model::testing::Stories260kGolden;

torch::Tensor GoldenIds() {
  return IdsTensor(
      Stories260kGolden()["logits_first16_positions"]["ids"].get<std::vector<int64_t>>());
}

torch::Tensor Logits(Transformer& model, const std::string& adapter) {
  torch::InferenceMode inference_mode;
  ForwardOptions options;
  options.adapter = adapter;
  auto output = model->Forward(GoldenIds(), torch::Tensor(), options);
  EXPECT_TRUE(output.ok()) << output.status();
  return output.ok() ? output->logits : torch::Tensor();
}

std::map<std::string, torch::Tensor> CloneBaseWeights(Transformer& model) {
  std::map<std::string, torch::Tensor> copies;
  for (const auto& [name, tensor] : model->NamedBaseWeights()) copies[name] = tensor.clone();
  return copies;
}

// Gives every lora_B random values, so the adapter changes the outputs.
void RandomizeLoraB(Transformer& model, const std::string& adapter, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  auto parameters = model->AdapterParameters(adapter);
  ASSERT_TRUE(parameters.ok()) << parameters.status();
  for (auto& [name, tensor] : *parameters) {
    if (name.find("lora_B") != std::string::npos) tensor.normal_(0.0, 0.05);
  }
}

TEST(LoraAdapter, FreshAdapterKeepsLogits) {
  Transformer model = NewStories260kModel();
  torch::Tensor base = Logits(model, "");
  ASSERT_TRUE(model->AddAdapter("student", LoraConfig(), /*seed=*/1).ok());
  EXPECT_TRUE(torch::equal(Logits(model, "student"), base));
}

TEST(LoraAdapter, InitialisesAsPeft) {
  Transformer model = NewStories260kModel();
  LoraConfig config;
  config.r = 4;
  config.lora_alpha = 8;
  config.target_modules = {"q_proj", "down_proj"};
  ASSERT_TRUE(model->AddAdapter("a", config, 7).ok());
  auto parameters = model->AdapterParameters("a");
  ASSERT_TRUE(parameters.ok());
  // 5 layers, 2 projections, lora_A and lora_B each.
  ASSERT_EQ(parameters->size(), 20u);

  std::map<std::string, torch::Tensor> by_name(parameters->begin(), parameters->end());
  const torch::Tensor& q_a = by_name.at("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const torch::Tensor& q_b = by_name.at("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
  const torch::Tensor& down_a = by_name.at("base_model.model.model.layers.4.mlp.down_proj.lora_A.weight");
  const torch::Tensor& down_b = by_name.at("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight");
  EXPECT_EQ(q_a.sizes().vec(), (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(q_b.sizes().vec(), (std::vector<int64_t>{64, 4}));
  EXPECT_EQ(down_a.sizes().vec(), (std::vector<int64_t>{4, 172}));
  EXPECT_EQ(down_b.sizes().vec(), (std::vector<int64_t>{64, 4}));
  // Kaiming-uniform with a = sqrt(5): bound 1 / sqrt(in_features).
  EXPECT_LE(q_a.abs().max().item<double>(), 1.0 / std::sqrt(64.0));
  EXPECT_GT(q_a.abs().max().item<double>(), 0.5 / std::sqrt(64.0));
  EXPECT_LE(down_a.abs().max().item<double>(), 1.0 / std::sqrt(172.0));
  EXPECT_EQ(q_b.abs().max().item<double>(), 0.0);
  EXPECT_TRUE(q_a.requires_grad());
  EXPECT_EQ(model->FindAdapterConfig("a")->scaling(), 2.0);
}

TEST(LoraAdapter, OnlyLoraTensorsGetGradients) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model->AddAdapter("student", LoraConfig(), 1).ok());
  RandomizeLoraB(model, "student", 3);
  ForwardOptions options;
  options.adapter = "student";
  auto output = model->Forward(GoldenIds(), torch::Tensor(), options);
  ASSERT_TRUE(output.ok());
  output->logits.logsumexp(-1).sum().backward();

  auto parameters = model->AdapterParameters("student");
  ASSERT_TRUE(parameters.ok());
  for (const auto& [name, tensor] : *parameters) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(tensor.grad().defined());
    EXPECT_GT(tensor.grad().abs().sum().item<double>(), 0.0);
  }
  for (const auto& [name, tensor] : model->NamedBaseWeights()) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(tensor.requires_grad());
    EXPECT_FALSE(tensor.grad().defined());
  }
}

TEST(LoraAdapter, MergeThenUnmergeRestoresBase) {
  Transformer model = NewStories260kModel();
  std::map<std::string, torch::Tensor> base = CloneBaseWeights(model);
  ASSERT_TRUE(model->AddAdapter("student", LoraConfig(), 1).ok());
  RandomizeLoraB(model, "student", 5);
  torch::Tensor adapted = Logits(model, "student");

  ASSERT_TRUE(model->MergeAdapter("student").ok());
  // Merged weights give the adapter's outputs with or without naming it.
  EXPECT_LT((Logits(model, "") - adapted).abs().max().item<double>(), 1e-4);
  EXPECT_LT((Logits(model, "student") - adapted).abs().max().item<double>(), 1e-4);
  EXPECT_GT((model->NamedBaseWeights().at("model.layers.0.self_attn.q_proj.weight") -
             base.at("model.layers.0.self_attn.q_proj.weight"))
                .abs()
                .max()
                .item<double>(),
            1e-4);

  ASSERT_TRUE(model->UnmergeAdapter("student").ok());
  for (const auto& [name, tensor] : model->NamedBaseWeights()) {
    SCOPED_TRACE(name);
    EXPECT_LE((tensor - base.at(name)).abs().max().item<double>(), 1e-6);
  }
}

TEST(LoraAdapter, TwoAdaptersShareOneBase) {
  Transformer model = NewStories260kModel();
  std::map<std::string, torch::Tensor> base = CloneBaseWeights(model);
  torch::Tensor base_logits = Logits(model, "");
  ASSERT_TRUE(model->AddAdapter("teacher", LoraConfig(), 1).ok());
  ASSERT_TRUE(model->AddAdapter("student", LoraConfig(), 2).ok());
  RandomizeLoraB(model, "teacher", 10);
  RandomizeLoraB(model, "student", 11);

  torch::Tensor teacher = Logits(model, "teacher");
  torch::Tensor student = Logits(model, "student");
  EXPECT_GT((teacher - student).abs().max().item<double>(), 1e-3);
  EXPECT_GT((teacher - base_logits).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(torch::equal(Logits(model, ""), base_logits));
  for (const auto& [name, tensor] : model->NamedBaseWeights()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(torch::equal(tensor, base.at(name)));
  }

  // Removing one leaves the other as it was.
  ASSERT_TRUE(model->RemoveAdapter("student").ok());
  EXPECT_TRUE(torch::equal(Logits(model, "teacher"), teacher));
  EXPECT_EQ(model->AdapterNames(), std::vector<std::string>{"teacher"});
}

TEST(LoraAdapter, ThreadsUseDifferentAdapters) {
  Transformer model = NewStories260kModel();
  ASSERT_TRUE(model->AddAdapter("teacher", LoraConfig(), 1).ok());
  ASSERT_TRUE(model->AddAdapter("student", LoraConfig(), 2).ok());
  RandomizeLoraB(model, "teacher", 12);
  RandomizeLoraB(model, "student", 13);
  const torch::Tensor expected_teacher = Logits(model, "teacher");
  const torch::Tensor expected_student = Logits(model, "student");

  // Both threads run forward passes at once on the shared base, each with its own adapter.
  std::vector<torch::Tensor> teacher_runs(20), student_runs(20);
  std::thread teacher([&] {
    for (auto& logits : teacher_runs) logits = Logits(model, "teacher");
  });
  std::thread student([&] {
    for (auto& logits : student_runs) logits = Logits(model, "student");
  });
  teacher.join();
  student.join();
  for (size_t i = 0; i < teacher_runs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(torch::equal(teacher_runs[i], expected_teacher));
    EXPECT_TRUE(torch::equal(student_runs[i], expected_student));
  }
}

TEST(LoraAdapter, ExportImportRoundTrips) {
  Transformer model = NewStories260kModel();
  LoraConfig config;
  config.r = 8;
  config.target_modules = {"v_proj", "gate_proj"};
  ASSERT_TRUE(model->AddAdapter("a", config, 4).ok());
  RandomizeLoraB(model, "a", 6);
  auto exported = model->ExportAdapter("a");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->size(), 20u);
  for (const auto& [name, tensor] : *exported) {
    EXPECT_EQ(tensor.scalar_type(), torch::kFloat32) << name;
    EXPECT_FALSE(tensor.requires_grad()) << name;
  }

  Transformer other = NewStories260kModel();
  ASSERT_TRUE(other->ImportAdapter("copy", config, *exported).ok());
  EXPECT_TRUE(torch::equal(Logits(other, "copy"), Logits(model, "a")));
}

TEST(LoraAdapter, ImportRejectsBadTensors) {
  Transformer model = NewStories260kModel();
  LoraConfig config;
  config.r = 2;
  config.target_modules = {"q_proj"};
  ASSERT_TRUE(model->AddAdapter("a", config, 4).ok());
  auto exported = model->ExportAdapter("a");
  ASSERT_TRUE(exported.ok());

  const std::string key = "base_model.model.model.layers.2.self_attn.q_proj.lora_B.weight";
  std::map<std::string, torch::Tensor> wrong_shape = *exported;
  wrong_shape[key] = torch::zeros({64, 3});
  std::map<std::string, torch::Tensor> missing = *exported;
  missing.erase(key);
  std::map<std::string, torch::Tensor> extra = *exported;
  extra["base_model.model.model.layers.2.mlp.up_proj.lora_A.weight"] = torch::zeros({2, 64});

  const std::pair<std::map<std::string, torch::Tensor>, std::string> cases[] = {
      {wrong_shape, "has shape [64, 3], expected [64, 2]"},
      {missing, "misses tensor " + key},
      {extra, "unexpected tensor base_model.model.model.layers.2.mlp.up_proj.lora_A.weight"},
  };
  for (const auto& [tensors, message] : cases) {
    SCOPED_TRACE(message);
    absl::Status status = model->ImportAdapter("b", config, tensors);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(message), std::string::npos) << status;
    EXPECT_FALSE(model->HasAdapter("b"));
  }
}

TEST(LoraAdapter, RejectsBadConfig) {
  Transformer model = NewStories260kModel();
  LoraConfig zero_rank;
  zero_rank.r = 0;
  LoraConfig bad_target;
  bad_target.target_modules = {"qkv_proj"};
  LoraConfig bad_dropout;
  bad_dropout.lora_dropout = 1.0;
  const std::pair<LoraConfig, const char*> cases[] = {
      {zero_rank, "lora r must be at least 1, got 0"},
      {bad_target, "target_modules entry \"qkv_proj\""},
      {bad_dropout, "lora_dropout must be in [0, 1), got 1"},
  };
  for (const auto& [config, message] : cases) {
    SCOPED_TRACE(message);
    absl::Status status = model->AddAdapter("a", config, 1);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(message), std::string::npos) << status;
  }
  ASSERT_TRUE(model->AddAdapter("a", LoraConfig(), 1).ok());
  EXPECT_EQ(model->AddAdapter("a", LoraConfig(), 1).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(model->MergeAdapter("b").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace reftune::model
