#include "core/data/streaming_validator.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/data/record_parser.h"
#include "core/data/text_normalization.h"
#include "core/data/utf8.h"
#include "nlohmann/json.hpp"

namespace reftune::data {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Removes nlohmann's "[json.exception.parse_error.101] " prefix from a parse error.
std::string CleanParseError(const char* what) {
  std::string_view text(what);
  const size_t bracket = text.find("] ");
  if (!text.empty() && text.front() == '[' && bracket != std::string_view::npos) {
    text.remove_prefix(bracket + 2);
  }
  return std::string(text);
}

}  // namespace

StreamingValidator::StreamingValidator(ValidationOptions options) : options_(options) {}

absl::Status StreamingValidator::Feed(std::string_view chunk) {
  if (finished_) {
    return absl::FailedPreconditionError("StreamingValidator::Feed called after Finish");
  }
  report_.total_bytes += static_cast<int64_t>(chunk.size());
  if (report_.total_bytes > options_.max_total_bytes && !total_limit_reported_) {
    total_limit_reported_ = true;
    AddError(0, "(file)", absl::StrCat("dataset is larger than the limit of ",
                                       options_.max_total_bytes, " bytes; split it into smaller "
                                       "datasets"));
  }

  while (!chunk.empty()) {
    const size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      pending_bytes_ += chunk.size();
      if (pending_bytes_ <= options_.max_record_bytes) {
        pending_.append(chunk);
      } else {
        pending_.clear();
      }
      break;
    }

    const std::string_view piece = chunk.substr(0, newline);
    chunk.remove_prefix(newline + 1);
    const size_t line_bytes = pending_bytes_ + piece.size();
    if (pending_bytes_ == 0) {
      ProcessLine(piece, line_bytes);
    } else {
      if (line_bytes <= options_.max_record_bytes) pending_.append(piece);
      ProcessLine(pending_, line_bytes);
      pending_.clear();
      pending_bytes_ = 0;
    }
  }
  return absl::OkStatus();
}

const ValidationReport& StreamingValidator::Finish() {
  if (finished_) return report_;
  finished_ = true;
  if (pending_bytes_ > 0) {
    ProcessLine(pending_, pending_bytes_);
    pending_.clear();
    pending_bytes_ = 0;
  }
  first_line_of_record_.clear();
  return report_;
}

void StreamingValidator::ProcessLine(std::string_view text, size_t line_bytes) {
  const int64_t line = ++report_.lines;
  if (total_limit_reported_) return;

  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
    --line_bytes;
  }
  if (line == 1 && text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(3);

  if (line_bytes > options_.max_record_bytes) {
    ++report_.records;
    AddError(line, "(record)", absl::StrCat("line is ", line_bytes, " bytes, over the limit of ",
                                            options_.max_record_bytes,
                                            " bytes; shorten the record"));
    return;
  }
  if (absl::StripAsciiWhitespace(AsAbslView(text)).empty()) {
    if (!options_.allow_blank_lines) {
      AddError(line, "(record)", "line is blank; remove blank lines");
    }
    return;
  }

  ++report_.records;
  if (report_.records > options_.max_records) {
    if (!record_limit_reported_) {
      record_limit_reported_ = true;
      AddError(line, "(file)", absl::StrCat("dataset has more than the limit of ",
                                            options_.max_records, " records; split it into "
                                            "smaller datasets"));
    }
    return;
  }
  ValidateRecordLine(text, line_bytes);
}

void StreamingValidator::ValidateRecordLine(std::string_view text, size_t line_bytes) {
  const int64_t line = report_.lines;
  if (const std::optional<size_t> bad = FindInvalidUtf8(text); bad.has_value()) {
    AddError(line, "(record)",
             absl::StrCat("invalid UTF-8 at byte ", *bad + 1, " of the line (byte value 0x",
                          absl::Hex(static_cast<uint8_t>(text[*bad]), absl::kZeroPad2),
                          "); save the file as UTF-8"));
    return;
  }

  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    AddError(line, "(record)", absl::StrCat("invalid JSON: ", CleanParseError(e.what()),
                                            "; each line must be one complete JSON object"));
    return;
  }

  if (static_cast<double>(line_bytes) > options_.near_limit_fraction * options_.max_record_bytes) {
    AddWarning(line, "(record)", absl::StrCat("line is ", line_bytes, " bytes, near the limit of ",
                                              options_.max_record_bytes, " bytes"));
  }

  RecordParseOptions parse_options;
  parse_options.require_response = options_.require_response;
  parse_options.max_field_bytes = options_.max_field_bytes;
  parse_options.near_limit_fraction = options_.near_limit_fraction;
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
  std::optional<Record> record = ParseRecordObject(value, line, parse_options, &errors, &warnings);
  for (ValidationIssue& issue : errors) AddError(line, issue.field, std::move(issue.message));
  for (ValidationIssue& issue : warnings) AddWarning(line, issue.field, std::move(issue.message));
  if (!record.has_value()) return;

  ++report_.valid_records;
  ++report_.format_counts[RecordFormatName(value)];
  report_.lengths.push_back({line, static_cast<int64_t>(line_bytes),
                             static_cast<int64_t>(record->prompt.size()),
                             static_cast<int64_t>(record->response.size()),
                             static_cast<int64_t>(CountCodePoints(record->prompt)),
                             static_cast<int64_t>(CountCodePoints(record->response))});

  std::string key = std::move(record->prompt);
  key.push_back('\0');
  key += record->response;
  const auto [it, inserted] = first_line_of_record_.try_emplace(std::move(key), line);
  if (!inserted) {
    AddWarning(line, "(record)", absl::StrCat("record duplicates line ", it->second,
                                              " (same prompt and response); remove one copy "
                                              "unless the repeat is intended"));
  }
}

void StreamingValidator::AddError(int64_t line, std::string field, std::string message) {
  ++report_.error_count;
  if (report_.errors.size() < options_.max_reported_errors) {
    report_.errors.push_back({line, std::move(field), std::move(message)});
  }
}

void StreamingValidator::AddWarning(int64_t line, std::string field, std::string message) {
  ++report_.warning_count;
  if (report_.warnings.size() < options_.max_reported_warnings) {
    report_.warnings.push_back({line, std::move(field), std::move(message)});
  }
}

ValidationReport ValidateDataset(std::string_view data, const ValidationOptions& options) {
  StreamingValidator validator(options);
  // Feed cannot fail before Finish.
  (void)validator.Feed(data);
  return validator.Finish();
}

}  // namespace reftune::data
