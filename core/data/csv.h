// A small RFC 4180 CSV reader for the public data sets.
#ifndef REFTUNE_CORE_DATA_CSV_H_
#define REFTUNE_CORE_DATA_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reftune::data {

// Splits CSV text into rows of fields. Fields may be quoted with '"', a quoted field may contain
// commas, newlines and '""' for one quote. Line ends may be "\n" or "\r\n"; a final empty line is
// dropped. `source` names the input in errors, which are INVALID_ARGUMENT with the 1-based line.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                               std::string_view source);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_CSV_H_
