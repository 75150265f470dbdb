// Reading and writing JSON Lines files and reftune record files.
#ifndef REFTUNE_CORE_DATA_JSONL_H_
#define REFTUNE_CORE_DATA_JSONL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/record.h"
#include "core/data/record_parser.h"
#include "nlohmann/json.hpp"

namespace reftune::data {

// Reads a whole file. NOT_FOUND when it does not exist, INTERNAL on a read error.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Parses a file holding one JSON document (for example a JSON array).
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// Parses a JSON Lines file into one value per non-blank line. The first invalid line fails the
// whole read with INVALID_ARGUMENT naming the path and line.
absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLinesFile(const std::string& path);

// Reads a record file in any accepted format (see ParseRecordObject). Blank lines are skipped.
// Fails with INVALID_ARGUMENT listing up to 20 problems as "path:line: field: message" when any
// record is invalid.
absl::StatusOr<std::vector<Record>> ReadRecordsFile(const std::string& path,
                                                    const RecordParseOptions& options = {});

// Writes records as JSONL in the {"prompt", "response", "meta"} form, one per line, replacing
// the file.
absl::Status WriteRecordsFile(const std::string& path, const std::vector<Record>& records);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_JSONL_H_
