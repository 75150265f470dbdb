// Counts of what a builder wrote, per source and label, for the printed summary.
#ifndef REFTUNE_CORE_DATA_BUILD_SUMMARY_H_
#define REFTUNE_CORE_DATA_BUILD_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/record.h"

namespace reftune::data {

struct SummaryRow {
  std::string source;
  // "harmful", "harmless" or "-" when meta.harmful is unset.
  std::string kind;
  bool poison = false;
  // meta.label, "-" when empty. GSM8K numbers are summarised as "<number>".
  std::string label;
  int64_t count = 0;
};

// Groups records by (source, kind, poison, label), sorted by those fields.
std::vector<SummaryRow> SummarizeRecords(const std::vector<Record>& records);

// Formats "wrote N records to PATH" and a table of SummarizeRecords.
std::string FormatBuildSummary(const std::string& path, const std::vector<Record>& records);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_BUILD_SUMMARY_H_
