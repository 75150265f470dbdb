#include "tests/model/test_files.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace reftune::model::testing {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

}  // namespace

std::string Stories260kDir() {
  return EnvOr("REFTUNE_DATA_DIR", "/work/shared/data") + "/stories260K";
}

std::string Stories260kGoldenPath() {
  return EnvOr("REFTUNE_GOLDEN_DIR", "/work/shared/golden") + "/stories260K.json";
}

TempFolder::TempFolder() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "reftune-model-test-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const char* created = mkdtemp(buffer.data());
  EXPECT_NE(created, nullptr) << "mkdtemp failed for " << pattern;
  path_ = created != nullptr ? std::string(created) : pattern;
}

TempFolder::~TempFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempFolder::File(const std::string& name) const {
  return (std::filesystem::path(path_) / name).string();
}

std::string TrainSentencePieceModel(const std::string& folder) {
  // A small corpus with words, punctuation and a few accented letters; the vocabulary is small
  // enough that most words split into several pieces.
  const std::string corpus_path = folder + "/corpus.txt";
  {
    std::ofstream corpus(corpus_path);
    const std::vector<std::string> subjects = {"The cat", "A little dog", "Lily", "The old man",
                                               "Tom and Sue", "The café owner"};
    const std::vector<std::string> verbs = {"saw", "wanted", "played with", "found", "liked"};
    const std::vector<std::string> objects = {"a red ball.", "the big tree!", "some water?",
                                              "a happy bird.", "the garden, again."};
    for (const std::string& subject : subjects) {
      for (const std::string& verb : verbs) {
        for (const std::string& object : objects) {
          corpus << subject << " " << verb << " " << object << "\n";
        }
      }
    }
  }

  const std::string prefix = folder + "/tiny";
  const std::string command = absl::StrCat(
      "spm_train --input=", corpus_path, " --model_prefix=", prefix,
      " --model_type=bpe --vocab_size=320 --byte_fallback=true --character_coverage=1.0"
      " --normalization_rule_name=identity --remove_extra_whitespaces=false"
      " --hard_vocab_limit=false --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1"
      " --minloglevel=2 > ",
      folder, "/spm_train.log 2>&1");
  const int exit_code = std::system(command.c_str());
  EXPECT_EQ(exit_code, 0) << "spm_train failed; see " << folder << "/spm_train.log";
  if (exit_code != 0) return "";
  return prefix + ".model";
}

}  // namespace reftune::model::testing
