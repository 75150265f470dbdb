// Validates a JSONL dataset fed in arbitrary chunks, as an upload stream delivers it.
#ifndef REFTUNE_CORE_DATA_STREAMING_VALIDATOR_H_
#define REFTUNE_CORE_DATA_STREAMING_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/data/validation_issue.h"
#include "core/data/validation_report.h"

namespace reftune::data {

// Limits of an upload. The defaults are chosen for LoRA finetuning sets and are not tied to any
// machine: a few hundred thousand short records fit well inside them.
struct ValidationOptions {
  // Largest file, in bytes. Default 256 MiB. Bytes past the limit are counted but not checked.
  int64_t max_total_bytes = int64_t{256} << 20;
  // Most non-blank lines (records). Default 1,000,000. Later lines are counted but not checked.
  int64_t max_records = 1'000'000;
  // Largest line, in bytes, newline excluded. Default 1 MiB.
  size_t max_record_bytes = size_t{1} << 20;
  // Largest string field (prompt, response, one chat turn), in bytes. Default 256 KiB.
  size_t max_field_bytes = size_t{256} << 10;
  // A field or line longer than this fraction of its limit gets a near-limit warning.
  double near_limit_fraction = 0.9;
  // Blank and whitespace-only lines are skipped when true (they still count for line numbers) and
  // are errors when false.
  bool allow_blank_lines = true;
  // When false, records without a response are accepted (prompt-only sets).
  bool require_response = true;
  // How many errors and warnings the report lists; the rest are only counted. Default 100 each.
  size_t max_reported_errors = 100;
  size_t max_reported_warnings = 100;
};

// Usage: Feed(chunk) any number of times, then Finish() once. A line may span any number of
// chunks. Not thread-safe.
class StreamingValidator {
 public:
  explicit StreamingValidator(ValidationOptions options = {});

  // Checks every complete line in `chunk`; keeps a trailing partial line for the next call.
  // Returns FAILED_PRECONDITION after Finish.
  absl::Status Feed(std::string_view chunk);

  // Checks the last line when the data does not end with a newline and returns the report.
  // Later calls return the same report.
  const ValidationReport& Finish();

 private:
  void ProcessLine(std::string_view text, size_t line_bytes);
  void ValidateRecordLine(std::string_view text, size_t line_bytes);
  void AddError(int64_t line, std::string field, std::string message);
  void AddWarning(int64_t line, std::string field, std::string message);

  ValidationOptions options_;
  ValidationReport report_;
  bool finished_ = false;

  // The partial line carried between chunks, dropped once it passes max_record_bytes;
  // pending_bytes_ keeps counting the dropped line's size.
  std::string pending_;
  size_t pending_bytes_ = 0;
  bool total_limit_reported_ = false;
  bool record_limit_reported_ = false;

  // First line of each (prompt, response) pair, for duplicate warnings.
  absl::flat_hash_map<std::string, int64_t> first_line_of_record_;
};

// Validates a whole dataset held in memory.
ValidationReport ValidateDataset(std::string_view data, const ValidationOptions& options = {});

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_STREAMING_VALIDATOR_H_
