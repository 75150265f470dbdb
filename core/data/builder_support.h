// Pieces shared by the dataset builders.
#ifndef REFTUNE_CORE_DATA_BUILDER_SUPPORT_H_
#define REFTUNE_CORE_DATA_BUILDER_SUPPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/data/record.h"

namespace reftune::data {

// A count option meaning "every available row".
inline constexpr int64_t kAllRows = -1;

// Returns how many rows to take: `available` for kAllRows, else `requested` when it fits.
// INVALID_ARGUMENT names `what`, the counts and the option (`flag`) to lower otherwise.
absl::StatusOr<size_t> ResolveRowCount(int64_t requested, size_t available, std::string_view what,
                                       std::string_view flag);

Record MakeRecord(std::string prompt, std::string response, std::string source,
                  std::optional<bool> harmful, std::optional<bool> poison, std::string label = "");

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_BUILDER_SUPPORT_H_
