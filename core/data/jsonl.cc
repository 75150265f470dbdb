#include "core/data/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reftune::data {
namespace {

constexpr size_t kMaxListedProblems = 20;

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("file ", path, " not found"));
    }
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("failed to read ", path));
  return buffer.str();
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON in ", path, ": ", e.what()));
  }
}

absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLinesFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();

  std::vector<nlohmann::json> values;
  int64_t line = 0;
  for (const absl::string_view piece : absl::StrSplit(*text, '\n')) {
    ++line;
    if (absl::StripAsciiWhitespace(piece).empty()) continue;
    try {
      values.push_back(nlohmann::json::parse(piece.begin(), piece.end()));
    } catch (const nlohmann::json::parse_error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid JSON at ", path, ":", line, ": ", e.what()));
    }
  }
  return values;
}

absl::StatusOr<std::vector<Record>> ReadRecordsFile(const std::string& path,
                                                    const RecordParseOptions& options) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();

  std::vector<Record> records;
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
  int64_t line = 0;
  for (const absl::string_view piece : absl::StrSplit(*text, '\n')) {
    ++line;
    if (absl::StripAsciiWhitespace(piece).empty()) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(piece.begin(), piece.end());
    } catch (const nlohmann::json::parse_error& e) {
      errors.push_back({line, "(record)", absl::StrCat("invalid JSON: ", e.what())});
      continue;
    }
    std::optional<Record> record = ParseRecordObject(value, line, options, &errors, &warnings);
    if (record.has_value()) records.push_back(std::move(*record));
  }
  if (errors.empty()) return records;

  std::string message = absl::StrCat(path, " has ", errors.size(), " invalid record problem(s):");
  for (size_t i = 0; i < errors.size() && i < kMaxListedProblems; ++i) {
    absl::StrAppend(&message, "\n", path, ":", errors[i].line, ": ", errors[i].field, ": ",
                    errors[i].message);
  }
  if (errors.size() > kMaxListedProblems) {
    absl::StrAppend(&message, "\n", errors.size() - kMaxListedProblems,
                    " more problems not shown");
  }
  return absl::InvalidArgumentError(message);
}

absl::Status WriteRecordsFile(const std::string& path, const std::vector<Record>& records) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot open ", path, " for writing: ",
                                            std::strerror(errno)));
  }
  for (const Record& record : records) {
    out << RecordToJson(record).dump() << '\n';
  }
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("failed to write ", path));
  return absl::OkStatus();
}

}  // namespace reftune::data
