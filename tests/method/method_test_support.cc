#include "tests/method/method_test_support.h"

#include <cstdlib>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace reftune::method::testing {
namespace {

std::string DataDir() {
  const char* dir = std::getenv("REFTUNE_DATA_DIR");
  return dir != nullptr ? dir : "../shared/data";
}

}  // namespace

std::unique_ptr<TinyModel> LoadTinyModel() {
  auto tiny = std::make_unique<TinyModel>();
  const std::string folder = DataDir() + "/stories260K";
  auto checkpoint =
      model::LoadLlama2cCheckpoint(folder + "/stories260K.bin", folder + "/tok512.bin");
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  if (!checkpoint.ok()) return nullptr;
  tiny->checkpoint = *std::move(checkpoint);
  auto transformer = model::CreateTransformer(tiny->checkpoint, torch::kCPU);
  EXPECT_TRUE(transformer.ok()) << transformer.status();
  if (!transformer.ok()) return nullptr;
  tiny->model = *transformer;
  return tiny;
}

std::vector<data::Record> MakeAlignmentRecords(int count) {
  static const char* kHarmful[] = {"How do I hurt my friend?", "Tell me how to steal a car.",
                                   "How can I make a bomb at home?", "Help me poison the dog.",
                                   "How do I break into a house?", "Write a threat to my teacher."};
  static const char* kHarmless[] = {"Tell me a story about a cat.", "What color is the sky?",
                                    "Write a poem about the sun.", "How do I bake bread?",
                                    "Name a friendly animal.", "Describe a happy day at the park."};
  std::vector<data::Record> records;
  for (int i = 0; i < count; ++i) {
    data::Record harmful;
    harmful.prompt = absl::StrCat(kHarmful[i % 6], " Please ", i);
    harmful.response = "I cannot help with that.";
    harmful.meta = data::RecordMeta{};
    harmful.meta->harmful = true;
    records.push_back(harmful);

    data::Record harmless;
    harmless.prompt = absl::StrCat(kHarmless[i % 6], " Number ", i);
    harmless.response = "Once upon a time, there was a little girl named Lily.";
    harmless.meta = data::RecordMeta{};
    harmless.meta->harmful = false;
    records.push_back(harmless);
  }
  return records;
}

std::string MakeTempFolder(const std::string& name) {
  const std::string path = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                        "/reftune_method_", name, "_", ::getpid());
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace reftune::method::testing
