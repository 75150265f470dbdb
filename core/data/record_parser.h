// Turns one parsed JSON object in any accepted format into a Record, collecting every problem.
#ifndef REFTUNE_CORE_DATA_RECORD_PARSER_H_
#define REFTUNE_CORE_DATA_RECORD_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/data/record.h"
#include "core/data/validation_issue.h"
#include "nlohmann/json.hpp"

namespace reftune::data {

struct RecordParseOptions {
  // When false, "response" may be missing or empty: prompt-only sets such as evaluation prompts.
  // Chat and Alpaca records always need their answer turn.
  bool require_response = true;
  // Largest allowed string field, in bytes. 0 means no limit.
  size_t max_field_bytes = 0;
  // A field longer than this fraction of max_field_bytes gets a near-limit warning.
  double near_limit_fraction = 0.9;
};

// Accepted forms:
//   {"prompt": str, "response": str}
//   {"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}: the last turn must
//     be from the assistant and is the response; the earlier turns, rendered by RenderChatHistory,
//     are the prompt; at least one user turn is required.
//   {"instruction": str, "input": str (optional, may be empty), "output": str}: the prompt is the
//     instruction, followed by a blank line and the input when the input is not empty.
// Each form may carry "meta": {"source": str, "harmful": bool, "poison": bool, "label": str}.
// Other keys produce warnings. Text fields must not be empty or whitespace only.
//
// Appends every error and warning for this record to the given vectors (never null) and returns
// the record only when there was no error.
std::optional<Record> ParseRecordObject(const nlohmann::json& value, int64_t line,
                                        const RecordParseOptions& options,
                                        std::vector<ValidationIssue>* errors,
                                        std::vector<ValidationIssue>* warnings);

// Name of the accepted form of `value`: "chat" with "messages", "alpaca" with "instruction", else
// "prompt_response". Meaningful for records that ParseRecordObject accepted.
std::string RecordFormatName(const nlohmann::json& value);

// Describes a JSON value for a message: its type and up to 40 characters of its text.
std::string DescribeJsonValue(const nlohmann::json& value);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_RECORD_PARSER_H_
