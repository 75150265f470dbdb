#include "tests/filter/filter_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"
#include "core/method/refusal_feature.h"
#include "core/method/teacher_artifact.h"
#include "core/method/token_batch.h"
#include "core/model/adapter_io.h"
#include "core/model/torch_threads.h"
#include "gtest/gtest.h"
#include "services/filter/adapter_generator.h"
#include "services/filter/folder_teacher_resolver.h"

namespace reftune::filter::testing {
namespace {

constexpr size_t kPromptsPerSide = 24;
constexpr int64_t kTeacherLayer = 2;

// Absolute, so that base model keys built here equal those read back from base_model.json.
std::string DataDir() {
  const char* dir = std::getenv("REFTUNE_DATA_DIR");
  const std::filesystem::path path = dir != nullptr ? dir : "../shared/data";
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::vector<std::string> ReadPrompts(const std::string& data_dir) {
  std::vector<std::string> prompts;
  auto harmful = data::ReadJsonLinesFile(data_dir + "/beavertails_spard/beaverTails_train.jsonl");
  EXPECT_TRUE(harmful.ok()) << harmful.status();
  for (size_t i = 0; harmful.ok() && i < kPromptsPerSide && i < harmful->size(); ++i) {
    prompts.push_back((*harmful)[i].at("prompt").get<std::string>());
  }
  auto harmless = data::ReadJsonFile(data_dir + "/alpaca_en_demo/alpaca_en_demo.json");
  EXPECT_TRUE(harmless.ok()) << harmless.status();
  for (size_t i = 0; harmless.ok() && i < kPromptsPerSide && i < harmless->size(); ++i) {
    prompts.push_back((*harmless)[i].at("instruction").get<std::string>());
  }
  return prompts;
}

// An adapter with lora_B drawn from N(0, 0.05^2), so that it changes the model's outputs.
std::map<std::string, torch::Tensor> RandomAdapter(model::Transformer& model,
                                                   const model::LoraConfig& lora, uint64_t seed) {
  const std::string name = absl::StrCat("random-", seed);
  EXPECT_TRUE(model->AddAdapter(name, lora, seed).ok());
  auto tensors = model->ExportAdapter(name);
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  torch::manual_seed(seed);
  for (auto& [key, tensor] : *tensors) {
    if (key.find("lora_B") != std::string::npos) tensor = torch::randn(tensor.sizes()) * 0.05;
  }
  EXPECT_TRUE(model->RemoveAdapter(name).ok());
  return *tensors;
}

method::TeacherArtifact BuildTeacher(model::Transformer& model, const model::Tokenizer& tokenizer,
                                     const std::vector<std::string>& prompts,
                                     size_t harmful_count, uint64_t seed) {
  method::TeacherArtifact teacher;
  teacher.lora.r = 4;
  teacher.lora.lora_alpha = 8;
  teacher.lora.base_model_name_or_path = "stories260K";
  teacher.adapter_tensors = RandomAdapter(model, teacher.lora, seed);
  teacher.layer = kTeacherLayer;
  teacher.end_of_answer_id = model->config().end_of_answer_id;
  EXPECT_TRUE(model->ImportAdapter("teacher", teacher.lora, teacher.adapter_tensors).ok());

  std::vector<method::EncodedExample> harmful;
  std::vector<method::EncodedExample> harmless;
  for (size_t i = 0; i < prompts.size(); ++i) {
    data::Record record;
    record.prompt = prompts[i];
    auto example = method::EncodeExample(tokenizer, teacher.prompt_template, record,
                                         /*with_answer=*/false, method::EncodeOptions());
    EXPECT_TRUE(example.ok()) << example.status();
    (i < harmful_count ? harmful : harmless).push_back(*example);
  }
  method::FeatureOptions features;
  features.adapter = "teacher";
  features.layers = {kTeacherLayer};
  auto harmful_features = method::ComputePromptFeatures(model, harmful, features);
  auto harmless_features = method::ComputePromptFeatures(model, harmless, features);
  EXPECT_TRUE(harmful_features.ok()) << harmful_features.status();
  EXPECT_TRUE(harmless_features.ok()) << harmless_features.status();
  auto refusal = method::RefusalFeatureFromFeatures(harmful_features->front(),
                                                    harmless_features->front());
  EXPECT_TRUE(refusal.ok()) << refusal.status();
  teacher.refusal_feature = *refusal;

  // The median cosine, so that the calibrated threshold keeps some prompts and filters others.
  const torch::Tensor cosines = method::RefusalCosine(
      torch::cat({harmful_features->front(), harmless_features->front()}), *refusal);
  teacher.threshold = std::get<0>(cosines.to(torch::kFloat64).median(0)).item<double>();
  EXPECT_TRUE(model->RemoveAdapter("teacher").ok());
  return teacher;
}

void WriteCatalog(const std::string& path, const BaseModelSpec& spec) {
  nlohmann::json entry = {{"name", spec.name},
                          {"format", spec.format},
                          {"path", spec.path},
                          {"tokenizer_path", spec.tokenizer_path}};
  std::ofstream out(path);
  out << nlohmann::json{{"base_models", {entry}}}.dump(2) << "\n";
}

FilterFixture BuildFixture() {
  model::ConfigureTorchThreads(1);
  FilterFixture fixture;
  const std::string data_dir = DataDir();
  fixture.stories.name = "stories260K";
  fixture.stories.format = "llama2c";
  fixture.stories.path = data_dir + "/stories260K/stories260K.bin";
  fixture.stories.tokenizer_path = data_dir + "/stories260K/tok512.bin";
  fixture.prompts = ReadPrompts(data_dir);
  fixture.harmful_count = kPromptsPerSide;

  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     absl::StrCat("reftune-filter-test-", ::getpid());
  std::filesystem::remove_all(root);
  static const std::filesystem::path* const kRoot = new std::filesystem::path(root);
  std::atexit([] {
    std::error_code error;
    std::filesystem::remove_all(*kRoot, error);
  });
  fixture.teacher_root = (root / "teachers").string();
  fixture.base_models_file = (root / "base_models.json").string();
  fixture.adapter_folder = (root / "adapter").string();
  fixture.merged_adapter_folder = (root / "adapter-merged").string();
  std::filesystem::create_directories(fixture.teacher_root);
  WriteCatalog(fixture.base_models_file, fixture.stories);

  auto checkpoint = LoadBaseCheckpoint(fixture.stories);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  if (!checkpoint.ok()) return fixture;
  auto model = model::CreateTransformer(*checkpoint, torch::kCPU);
  EXPECT_TRUE(model.ok()) << model.status();
  (*model)->eval();

  uint64_t seed = 11;
  for (const char* id : {"teacher-a", "teacher-b", "teacher-c"}) {
    const method::TeacherArtifact teacher = BuildTeacher(
        *model, *checkpoint->tokenizer, fixture.prompts, fixture.harmful_count, seed++);
    const std::string folder = fixture.teacher_root + "/" + id;
    EXPECT_TRUE(method::SaveTeacher(folder, teacher).ok());
    EXPECT_TRUE(WriteBaseModelFile(folder, fixture.stories).ok());
    fixture.teacher_ids.push_back(id);
  }

  model::AdapterFiles adapter;
  adapter.config.r = 4;
  adapter.config.lora_alpha = 8;
  adapter.config.base_model_name_or_path = "stories260K";
  adapter.tensors = RandomAdapter(*model, adapter.config, /*seed=*/99);
  EXPECT_TRUE(model::SaveAdapter(fixture.adapter_folder, adapter, checkpoint->config).ok());
  adapter.tensors = RandomAdapter(*model, adapter.config, /*seed=*/98);
  adapter.metadata = {{kMergedTeacherMetadataKey, fixture.teacher_root + "/teacher-a"}};
  EXPECT_TRUE(
      model::SaveAdapter(fixture.merged_adapter_folder, adapter, checkpoint->config).ok());
  return fixture;
}

}  // namespace

const FilterFixture& Fixture() {
  static const FilterFixture* fixture = new FilterFixture(BuildFixture());
  return *fixture;
}

std::unique_ptr<method::PromptFilter> DirectFilter(const std::string& teacher_id) {
  const FilterFixture& fixture = Fixture();
  auto checkpoint = LoadBaseCheckpoint(fixture.stories);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  auto model = model::CreateTransformer(*checkpoint, torch::kCPU);
  EXPECT_TRUE(model.ok()) << model.status();
  (*model)->eval();
  auto teacher = method::LoadTeacher(fixture.teacher_root + "/" + teacher_id);
  EXPECT_TRUE(teacher.ok()) << teacher.status();
  EXPECT_TRUE(method::InstallTeacherAdapter(*model, *teacher, "teacher").ok());
  method::PromptFilterOptions options;
  options.adapter = "teacher";
  return std::make_unique<method::PromptFilter>(*model, checkpoint->tokenizer, *teacher, options);
}

FilterServerOptions TestServerOptions() {
  const FilterFixture& fixture = Fixture();
  FilterServerOptions options;
  options.grpc.listen_address = "127.0.0.1:0";
  options.teacher_root = fixture.teacher_root;
  options.base_models_file = fixture.base_models_file;
  return options;
}

}  // namespace reftune::filter::testing
