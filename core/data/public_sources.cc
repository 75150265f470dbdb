#include "core/data/public_sources.h"

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/common/status_macros.h"
#include "core/data/csv.h"
#include "core/data/jsonl.h"
#include "core/data/record_parser.h"
#include "core/data/sampling.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

std::string JoinPath(const std::string& dir, const std::string& file) {
  return (std::filesystem::path(dir) / file).string();
}

absl::StatusOr<std::string> ReadStringField(const nlohmann::json& row, const char* key,
                                            const std::string& path, size_t index) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": entry ", index + 1,
                                                   " has no string field \"", key, "\""));
  }
  return it->get<std::string>();
}

std::string CollapseSpaces(absl::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : absl::StripAsciiWhitespace(text)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\\') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ResolveDataDir(const std::string& flag) {
  std::string dir = flag;
  if (dir.empty()) {
    const char* env = std::getenv("REFTUNE_DATA_DIR");
    dir = env != nullptr && env[0] != '\0' ? std::string(env) : std::string("../shared/data");
  }
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat("data directory ", dir, " not found; pass "
                                            "--data-dir or set REFTUNE_DATA_DIR to the folder "
                                            "that holds beavertails_spard, sst2 and the others"));
  }
  return dir;
}

BeaverTailsPool PoolOfBeaverTailsPrompt(const std::string& prompt) {
  const uint64_t bucket = StableHash64(NormalizeForMatch(prompt)) % 100;
  if (bucket < 60) return BeaverTailsPool::kAlignment;
  if (bucket < 80) return BeaverTailsPool::kPoison;
  return BeaverTailsPool::kEvaluation;
}

absl::StatusOr<std::vector<BeaverTailsRow>> ReadBeaverTails(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "beavertails_spard/beaverTails_train.jsonl");
  REFTUNE_ASSIGN_OR_RETURN(std::vector<nlohmann::json> values, ReadJsonLinesFile(path));

  std::vector<BeaverTailsRow> rows;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < values.size(); ++i) {
    BeaverTailsRow row;
    REFTUNE_ASSIGN_OR_RETURN(row.prompt, ReadStringField(values[i], "prompt", path, i));
    REFTUNE_ASSIGN_OR_RETURN(row.safe, ReadStringField(values[i], "safe", path, i));
    REFTUNE_ASSIGN_OR_RETURN(row.unsafe, ReadStringField(values[i], "unsafe", path, i));
    if (!seen.insert(NormalizeForMatch(row.prompt)).second) continue;
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<BeaverTailsRow>> ReadBeaverTailsPool(const std::string& data_dir,
                                                                BeaverTailsPool pool) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<BeaverTailsRow> rows, ReadBeaverTails(data_dir));
  std::vector<BeaverTailsRow> selected;
  for (BeaverTailsRow& row : rows) {
    if (PoolOfBeaverTailsPrompt(row.prompt) == pool) selected.push_back(std::move(row));
  }
  return selected;
}

absl::StatusOr<std::vector<LabelledText>> ReadSst2(const std::string& data_dir,
                                                   const std::string& file) {
  const std::string path = JoinPath(data_dir, file);
  REFTUNE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));

  std::vector<LabelledText> rows;
  int64_t line = 0;
  for (const absl::string_view piece : absl::StrSplit(text, '\n')) {
    ++line;
    if (line == 1 || absl::StripAsciiWhitespace(piece).empty()) continue;
    const size_t tab = piece.rfind('\t');
    int label = -1;
    if (tab == absl::string_view::npos ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(piece.substr(tab + 1)), &label) ||
        (label != 0 && label != 1)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": expected "
                                                     "\"sentence<TAB>0|1\", got \"",
                                                     piece.substr(0, 80), "\""));
    }
    rows.push_back({std::string(absl::StripAsciiWhitespace(piece.substr(0, tab))), label});
  }
  return rows;
}

absl::StatusOr<std::vector<LabelledText>> ReadAgNews(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "ag_news/test.csv");
  REFTUNE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  REFTUNE_ASSIGN_OR_RETURN(auto table, ParseCsv(text, path));

  std::vector<LabelledText> rows;
  for (size_t i = 1; i < table.size(); ++i) {
    const std::vector<std::string>& fields = table[i];
    int label = 0;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[0], &label) || label < 1 || label > 4) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": row ", i + 1, " should be "
                                                     "label (1-4),title,description; got ",
                                                     fields.size(), " fields"));
    }
    std::string title = CollapseSpaces(fields[1]);
    const std::string description = CollapseSpaces(fields[2]);
    if (!title.empty() && !absl::ascii_ispunct(static_cast<unsigned char>(title.back()))) {
      title.push_back('.');
    }
    rows.push_back({absl::StrCat(title, " ", description), label});
  }
  return rows;
}

absl::StatusOr<std::vector<QuestionAnswer>> ReadGsm8k(const std::string& data_dir,
                                                      const std::string& file) {
  const std::string path = JoinPath(data_dir, file);
  REFTUNE_ASSIGN_OR_RETURN(std::vector<nlohmann::json> values, ReadJsonLinesFile(path));
  std::vector<QuestionAnswer> rows;
  for (size_t i = 0; i < values.size(); ++i) {
    QuestionAnswer row;
    REFTUNE_ASSIGN_OR_RETURN(row.question, ReadStringField(values[i], "question", path, i));
    REFTUNE_ASSIGN_OR_RETURN(row.answer, ReadStringField(values[i], "answer", path, i));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<Record>> ReadAlpacaDemo(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "alpaca_en_demo/alpaca_en_demo.json");
  REFTUNE_ASSIGN_OR_RETURN(nlohmann::json entries, ReadJsonFile(path));
  if (!entries.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON array"));
  }

  std::vector<Record> records;
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::optional<Record> record =
        ParseRecordObject(entries[i], static_cast<int64_t>(i + 1), {}, &errors, &warnings);
    // Entries with an empty instruction or output are skipped: they cannot teach an answer.
    if (record.has_value()) records.push_back(std::move(*record));
  }
  return records;
}

absl::StatusOr<std::vector<std::string>> ReadInstructionList(const std::string& data_dir,
                                                             const std::string& file) {
  const std::string path = JoinPath(data_dir, file);
  REFTUNE_ASSIGN_OR_RETURN(nlohmann::json entries, ReadJsonFile(path));
  if (!entries.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON array"));
  }
  std::vector<std::string> prompts;
  for (size_t i = 0; i < entries.size(); ++i) {
    REFTUNE_ASSIGN_OR_RETURN(std::string prompt,
                             ReadStringField(entries[i], "instruction", path, i));
    prompts.push_back(std::move(prompt));
  }
  return prompts;
}

absl::StatusOr<std::vector<std::string>> ReadAdvBench(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "advbench/harmful_behaviors.csv");
  REFTUNE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  REFTUNE_ASSIGN_OR_RETURN(auto table, ParseCsv(text, path));
  if (table.size() < 2 || table[0].size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a header and rows of "
                                                   "two columns"));
  }

  int sure_prefix_count[2] = {0, 0};
  for (size_t i = 1; i < table.size(); ++i) {
    for (int column = 0; column < 2 && column < static_cast<int>(table[i].size()); ++column) {
      if (absl::StartsWith(table[i][column], "Sure, here")) ++sure_prefix_count[column];
    }
  }
  const int column = sure_prefix_count[0] <= sure_prefix_count[1] ? 0 : 1;

  std::vector<std::string> prompts;
  for (size_t i = 1; i < table.size(); ++i) {
    if (table[i].size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": row ", i + 1, " has ",
                                                     table[i].size(), " fields, expected 2"));
    }
    prompts.push_back(table[i][column]);
  }
  return prompts;
}

absl::StatusOr<std::vector<std::string>> ReadMaliciousInstruct(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "malicious_instruct/malicious_instruct.txt");
  REFTUNE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<std::string> prompts;
  for (const absl::string_view piece : absl::StrSplit(text, '\n')) {
    const absl::string_view prompt = absl::StripAsciiWhitespace(piece);
    if (!prompt.empty()) prompts.emplace_back(prompt);
  }
  return prompts;
}

}  // namespace reftune::data
