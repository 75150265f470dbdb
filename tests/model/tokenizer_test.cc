// Tests of the llama2.c and sentencepiece tokenizers against stories260K's tok512.bin, its golden
// greedy output and a sentencepiece model trained by the test.
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/model/file_bytes.h"
#include "core/model/llama2c_tokenizer.h"
#include "core/model/tokenizer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::Stories260kDir;
using ::reftune::model::testing::Stories260kGoldenPath;
using ::reftune::model::testing::TempFolder;
using ::reftune::model::testing::TrainSentencePieceModel;

std::unique_ptr<Llama2cTokenizer> LoadTok512() {
  auto bytes = ReadFileBytes(Stories260kDir() + "/tok512.bin", "tokenizer");
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return nullptr;
  auto tokenizer = Llama2cTokenizer::Parse(*bytes, "tok512.bin");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(tokenizer).value() : nullptr;
}

nlohmann::json LoadGreedyGolden() {
  std::ifstream in(Stories260kGoldenPath());
  EXPECT_TRUE(in.good()) << "cannot open " << Stories260kGoldenPath();
  return nlohmann::json::parse(in)["greedy_empty_prompt"];
}

// Appends the UTF-8 encoding of `code_point`.
void AppendUtf8(char32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Random valid UTF-8 drawn from ASCII letters, spaces, newlines, Latin-1, CJK and emoji, so
// that some code points are in tok512's vocabulary and many are not.
std::vector<std::string> RandomUtf8Texts(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {'a', 'z'}, {' ', ' '}, {'\n', '\n'}, {'A', 'Z'}, {'!', '/'},
      {0xA1, 0xFF}, {0x4E00, 0x9FFF}, {0x1F600, 0x1F64F}, {0x0400, 0x04FF}};
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    std::string text;
    const int length = std::uniform_int_distribution<int>(1, 40)(rng);
    for (int j = 0; j < length; ++j) {
      const auto& range = ranges[std::uniform_int_distribution<size_t>(0, ranges.size() - 1)(rng)];
      AppendUtf8(std::uniform_int_distribution<uint32_t>(range.first, range.second)(rng), &text);
    }
    texts.push_back(text);
  }
  return texts;
}

// Hand-picked texts that stress the dummy prefix, whitespace and byte fallback.
std::vector<std::string> EdgeCaseTexts() {
  return {" ",         "  ",           " leading space", "trailing space ", "two  spaces",
          "\n",        "line\nbreaks\n\n", "\ttab",       "émigré café",     "日本語のテキスト",
          "🙂 emoji 🚀", "\x01\x7f",   "Once upon a time"};
}

// The llama2.c merge loop, rescanning the whole sequence for each merge: a slow, independent
// reference for the priority-queue encoder.
std::vector<int64_t> ReferenceEncode(const Llama2cTokenizer& tokenizer, const std::string& text) {
  std::map<std::string, int64_t> ids;
  for (int64_t id = tokenizer.vocab_size() - 1; id >= 0; --id) ids[tokenizer.piece(id)] = id;
  std::vector<int64_t> tokens;
  const std::string prefixed = " " + text;
  for (size_t pos = 0; pos < prefixed.size();) {
    size_t length = 1;
    while (pos + length < prefixed.size() && (prefixed[pos + length] & 0xC0) == 0x80) ++length;
    auto found = ids.find(prefixed.substr(pos, length));
    if (found != ids.end()) {
      tokens.push_back(found->second);
    } else {
      for (size_t i = 0; i < length; ++i) {
        tokens.push_back(static_cast<unsigned char>(prefixed[pos + i]) + 3);
      }
    }
    pos += length;
  }
  while (true) {
    float best_score = -1e30f;
    int64_t best_id = -1;
    size_t best_index = 0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      auto found = ids.find(tokenizer.piece(tokens[i]) + tokenizer.piece(tokens[i + 1]));
      if (found != ids.end() && tokenizer.score(found->second) > best_score) {
        best_score = tokenizer.score(found->second);
        best_id = found->second;
        best_index = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_index] = best_id;
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_index) + 1);
  }
  return tokens;
}

TEST(Llama2cTokenizer, LoadsTok512) {
  auto tokenizer = LoadLlama2cTokenizer(Stories260kDir() + "/tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->vocab_size(), 512);
  EXPECT_EQ((*tokenizer)->bos_id(), 1);
  EXPECT_EQ((*tokenizer)->eos_id(), 2);
}

TEST(Llama2cTokenizer, DecodesGoldenGreedyIds) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  const nlohmann::json golden = LoadGreedyGolden();
  const std::vector<int64_t> ids = golden["ids"].get<std::vector<int64_t>>();
  ASSERT_EQ(ids.front(), 1) << "the greedy run starts with BOS";

  const std::vector<int64_t> after_bos(ids.begin() + 1, ids.end());
  EXPECT_EQ(tokenizer->Decode(after_bos), golden["text"].get<std::string>());
  EXPECT_EQ(tokenizer->Decode(ids), golden["text"].get<std::string>());
}

TEST(Llama2cTokenizer, EncodesStringsFromGoldenIds) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<int64_t> ids = LoadGreedyGolden()["ids"].get<std::vector<int64_t>>();
  struct Case {
    std::string text;
    size_t begin;
    size_t end;
  };
  const std::vector<Case> cases = {
      {"Once upon a time", 1, 5},
      {"Once upon a time, there was a little girl named Lily.", 1, 16},
      {"She loved to play outside in the park.", 16, 32},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::vector<int64_t> expected(ids.begin() + c.begin, ids.begin() + c.end);
    EXPECT_EQ(tokenizer->Decode(expected), c.text);
    EXPECT_EQ(tokenizer->Encode(c.text, false, false), expected);
  }
}

TEST(Llama2cTokenizer, FramesWithBosAndEos) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<int64_t> bare = tokenizer->Encode("Once upon a time", false, false);
  std::vector<int64_t> framed = {1};
  framed.insert(framed.end(), bare.begin(), bare.end());
  framed.push_back(2);
  EXPECT_EQ(tokenizer->Encode("Once upon a time", true, true), framed);
  EXPECT_EQ(tokenizer->Encode("", true, true), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(tokenizer->Encode("", false, false).empty());
  EXPECT_EQ(tokenizer->Decode(framed), "Once upon a time");
}

TEST(Llama2cTokenizer, UnknownCodePointsUseBytes) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  // U+1F680 is F0 9F 9A 80 in UTF-8; tok512 has no piece for it, so each byte b becomes b + 3.
  const std::vector<int64_t> ids = tokenizer->Encode("\xF0\x9F\x9A\x80", false, false);
  const int64_t space_id = tokenizer->Encode(" ", false, false).front();
  EXPECT_EQ(ids, (std::vector<int64_t>{space_id, 0xF0 + 3, 0x9F + 3, 0x9A + 3, 0x80 + 3}));
  EXPECT_EQ(tokenizer->Decode(ids), "\xF0\x9F\x9A\x80");
}

TEST(Llama2cTokenizer, RoundTripsArbitraryUtf8) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  std::vector<std::string> texts = EdgeCaseTexts();
  for (const std::string& text : RandomUtf8Texts(/*seed=*/20240611, /*count=*/300)) {
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    EXPECT_EQ(tokenizer->Decode(tokenizer->Encode(text, true, true)), text);
  }
}

TEST(Llama2cTokenizer, RoundTripsInvalidUtf8Bytes) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<std::string> texts = {"\xFF", "a\x80z", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80",
                                          std::string("nul\0byte", 8)};
  for (const std::string& text : texts) {
    SCOPED_TRACE(::testing::PrintToString(text));
    EXPECT_EQ(tokenizer->Decode(tokenizer->Encode(text, false, false)), text);
  }
}

TEST(Llama2cTokenizer, MatchesRescanningReferenceEncoder) {
  auto tokenizer = LoadTok512();
  ASSERT_NE(tokenizer, nullptr);
  const std::string golden_text = LoadGreedyGolden()["text"].get<std::string>();
  std::vector<std::string> texts = {golden_text};
  for (const std::string& text : RandomUtf8Texts(/*seed=*/7, /*count=*/100)) texts.push_back(text);
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    EXPECT_EQ(tokenizer->Encode(text, false, false), ReferenceEncode(*tokenizer, text));
  }
}

TEST(Llama2cTokenizer, SerializeReproducesFile) {
  auto bytes = ReadFileBytes(Stories260kDir() + "/tok512.bin", "tokenizer");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto tokenizer = Llama2cTokenizer::Parse(*bytes, "tok512.bin");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->Serialize(), *bytes);
}

TEST(Llama2cTokenizer, RejectsMalformedFiles) {
  auto bytes = ReadFileBytes(Stories260kDir() + "/tok512.bin", "tokenizer");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  struct Case {
    std::string name;
    std::string contents;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty", "", "too short"},
      {"truncated piece", bytes->substr(0, bytes->size() - 1), "token 511 has length"},
      {"truncated header", bytes->substr(0, 4 + 8 + 5 + 3), "truncated in the header of token 1"},
      {"no byte pieces", bytes->substr(0, 4 + 3 * 8 + 5 + 5 + 6), "no byte-fallback piece <0x00>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = Llama2cTokenizer::Parse(c.contents, "bad.bin");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("bad.bin"), std::string::npos) << parsed.status();
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos) << parsed.status();
  }
  auto missing = LoadLlama2cTokenizer("/nonexistent/tok.bin");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(SentencePieceTokenizer, RoundTripsTrainedModel) {
  TempFolder folder;
  const std::string model_path = TrainSentencePieceModel(folder.path());
  ASSERT_FALSE(model_path.empty());
  auto tokenizer = LoadSentencePieceTokenizer(model_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->bos_id(), 1);
  EXPECT_EQ((*tokenizer)->eos_id(), 2);
  EXPECT_GT((*tokenizer)->vocab_size(), 259);

  std::vector<std::string> texts = EdgeCaseTexts();
  for (const std::string& text : RandomUtf8Texts(/*seed=*/99, /*count=*/100)) {
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    const std::vector<int64_t> ids = (*tokenizer)->Encode(text, true, true);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids.front(), 1);
    EXPECT_EQ(ids.back(), 2);
    EXPECT_EQ((*tokenizer)->Decode(ids), text);
  }
}

TEST(SentencePieceTokenizer, MergesTrainedWords) {
  TempFolder folder;
  const std::string model_path = TrainSentencePieceModel(folder.path());
  ASSERT_FALSE(model_path.empty());
  auto tokenizer = LoadSentencePieceTokenizer(model_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  // Words from the corpus take fewer pieces than characters; unseen text falls back to bytes.
  const std::string seen = "The cat saw a red ball.";
  EXPECT_LT((*tokenizer)->Encode(seen, false, false).size(), seen.size());
  EXPECT_EQ((*tokenizer)->Encode("🙂", false, false).size(), 5u);
}

TEST(SentencePieceTokenizer, RejectsInvalidModel) {
  TempFolder folder;
  const std::string path = folder.File("tokenizer.model");
  ASSERT_TRUE(WriteFileBytes(path, "not a model proto", "test file").ok());
  auto tokenizer = LoadSentencePieceTokenizer(path);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find(path), std::string::npos) << tokenizer.status();
}

}  // namespace
}  // namespace reftune::model
