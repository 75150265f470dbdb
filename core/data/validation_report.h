// The result of validating an uploaded dataset: every problem found (up to a cap), warnings and
// per-record lengths.
#ifndef REFTUNE_CORE_DATA_VALIDATION_REPORT_H_
#define REFTUNE_CORE_DATA_VALIDATION_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/data/validation_issue.h"
#include "nlohmann/json.hpp"

namespace reftune::data {

// Sizes of one valid record after normalisation, kept for token-length checks at job creation.
struct RecordLength {
  int64_t line = 0;
  // Bytes of the whole JSONL line, newline excluded.
  int64_t line_bytes = 0;
  int64_t prompt_bytes = 0;
  int64_t response_bytes = 0;
  // Unicode code points.
  int64_t prompt_chars = 0;
  int64_t response_chars = 0;
};

struct ValidationReport {
  // Bytes read, including newlines.
  int64_t total_bytes = 0;
  // Lines read, blank lines included.
  int64_t lines = 0;
  // Non-blank lines, each of which should hold one record.
  int64_t records = 0;
  // Records without any error.
  int64_t valid_records = 0;

  // The first errors in file order, at most ValidationOptions::max_reported_errors of them.
  std::vector<ValidationIssue> errors;
  // All errors found, shown or not.
  int64_t error_count = 0;
  // The first warnings, at most ValidationOptions::max_reported_warnings of them.
  std::vector<ValidationIssue> warnings;
  int64_t warning_count = 0;

  // Valid records per input form ("prompt_response", "chat", "alpaca"; see RecordFormatName).
  std::map<std::string, int64_t> format_counts;

  // One entry per valid record, in file order.
  std::vector<RecordLength> lengths;

  bool ok() const { return error_count == 0; }
  int64_t errors_not_shown() const { return error_count - static_cast<int64_t>(errors.size()); }
  int64_t warnings_not_shown() const {
    return warning_count - static_cast<int64_t>(warnings.size());
  }

  // Formats the shown errors, one "line N, field F: message" per line, followed by
  // "N more problems not shown" when the cap cut the list.
  std::string FormatErrors() const;
  // The same for warnings, ending with "N more warnings not shown" when cut.
  std::string FormatWarnings() const;

  // OK when there is no error, else INVALID_ARGUMENT carrying FormatErrors().
  absl::Status ToStatus() const;

  // Counts, the shown issues with line, field and message, and the not-shown counts. Lengths are
  // left out unless `include_lengths` is true because they grow with the file.
  nlohmann::json ToJson(bool include_lengths = false) const;
};

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_VALIDATION_REPORT_H_
