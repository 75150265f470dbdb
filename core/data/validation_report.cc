#include "core/data/validation_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace reftune::data {
namespace {

std::string FormatIssues(const std::vector<ValidationIssue>& issues, int64_t not_shown,
                         absl::string_view what) {
  std::string out;
  for (const ValidationIssue& issue : issues) {
    if (issue.line > 0) {
      absl::StrAppend(&out, "line ", issue.line, ", field ", issue.field, ": ", issue.message,
                      "\n");
    } else {
      absl::StrAppend(&out, "field ", issue.field, ": ", issue.message, "\n");
    }
  }
  if (not_shown > 0) absl::StrAppend(&out, not_shown, " more ", what, " not shown\n");
  return out;
}

nlohmann::json IssuesToJson(const std::vector<ValidationIssue>& issues) {
  nlohmann::json out = nlohmann::json::array();
  for (const ValidationIssue& issue : issues) {
    out.push_back({{"line", issue.line}, {"field", issue.field}, {"message", issue.message}});
  }
  return out;
}

}  // namespace

std::string ValidationReport::FormatErrors() const {
  return FormatIssues(errors, errors_not_shown(), "problems");
}

std::string ValidationReport::FormatWarnings() const {
  return FormatIssues(warnings, warnings_not_shown(), "warnings");
}

absl::Status ValidationReport::ToStatus() const {
  if (ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("dataset has ", error_count,
                                                 " invalid record problem(s):\n", FormatErrors()));
}

nlohmann::json ValidationReport::ToJson(bool include_lengths) const {
  nlohmann::json out = {
      {"total_bytes", total_bytes},     {"lines", lines},
      {"records", records},             {"valid_records", valid_records},
      {"error_count", error_count},     {"errors", IssuesToJson(errors)},
      {"errors_not_shown", errors_not_shown()},
      {"warning_count", warning_count}, {"warnings", IssuesToJson(warnings)},
      {"warnings_not_shown", warnings_not_shown()},
      {"format_counts", format_counts},
  };
  if (include_lengths) {
    nlohmann::json lengths_json = nlohmann::json::array();
    for (const RecordLength& length : lengths) {
      lengths_json.push_back({{"line", length.line},
                              {"line_bytes", length.line_bytes},
                              {"prompt_bytes", length.prompt_bytes},
                              {"response_bytes", length.response_bytes},
                              {"prompt_chars", length.prompt_chars},
                              {"response_chars", length.response_chars}});
    }
    out["lengths"] = std::move(lengths_json);
  }
  return out;
}

}  // namespace reftune::data
