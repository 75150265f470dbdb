#include "core/data/build_summary.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reftune::data {
namespace {

bool IsNumber(const std::string& text) {
  bool has_digit = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (c != '.' && c != ',' && c != '-') {
      return false;
    }
  }
  return has_digit;
}

}  // namespace

std::vector<SummaryRow> SummarizeRecords(const std::vector<Record>& records) {
  std::map<std::tuple<std::string, std::string, bool, std::string>, int64_t> counts;
  for (const Record& record : records) {
    const RecordMeta meta = record.meta.value_or(RecordMeta{});
    const std::string source = meta.source.empty() ? "-" : meta.source;
    const std::string kind =
        !meta.harmful.has_value() ? "-" : (*meta.harmful ? "harmful" : "harmless");
    std::string label = meta.label.empty() ? "-" : meta.label;
    if (IsNumber(label)) label = "<number>";
    ++counts[{source, kind, meta.poison.value_or(false), label}];
  }

  std::vector<SummaryRow> rows;
  for (const auto& [key, count] : counts) {
    rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), count});
  }
  return rows;
}

std::string FormatBuildSummary(const std::string& path, const std::vector<Record>& records) {
  std::string out = absl::StrCat("wrote ", records.size(), " records to ", path, "\n");
  absl::StrAppend(&out, absl::StrFormat("  %-20s %-9s %-6s %-10s %8s\n", "source", "kind",
                                        "poison", "label", "count"));
  for (const SummaryRow& row : SummarizeRecords(records)) {
    absl::StrAppend(&out, absl::StrFormat("  %-20s %-9s %-6s %-10s %8d\n", row.source, row.kind,
                                          row.poison ? "yes" : "no", row.label, row.count));
  }
  return out;
}

}  // namespace reftune::data
