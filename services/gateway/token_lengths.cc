#include "services/gateway/token_lengths.h"

#include <algorithm>
#include <fstream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/data/record_parser.h"
#include "nlohmann/json.hpp"

namespace reftune::gateway {

absl::StatusOr<std::vector<OverlongRecord>> FindOverlongRecords(
    const std::string& path, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const TokenLengthLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("dataset file ", path, " cannot be read"));
  }

  std::vector<OverlongRecord> overlong;
  data::RecordParseOptions parse_options;
  parse_options.require_response = false;
  std::string text;
  int64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) continue;
    std::vector<data::ValidationIssue> errors;
    std::vector<data::ValidationIssue> warnings;
    std::optional<data::Record> record =
        data::ParseRecordObject(value, line, parse_options, &errors, &warnings);
    if (!record.has_value()) continue;

    const int64_t prompt_tokens = static_cast<int64_t>(
        tokenizer.Encode(prompt_template.Render(record->prompt), /*add_bos=*/true, false).size());
    const int64_t answer_tokens = std::min<int64_t>(
        tokenizer.Encode(record->response, false, false).size(), limits.max_answer_tokens);
    // One more token for the end-of-answer token that training appends.
    const int64_t total = prompt_tokens + answer_tokens + 1;
    if (total > limits.max_seq_len) overlong.push_back({line, total});
  }
  if (in.bad()) return absl::InternalError(absl::StrCat("reading dataset file ", path, " failed"));
  return overlong;
}

}  // namespace reftune::gateway
