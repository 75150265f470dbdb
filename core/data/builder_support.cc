#include "core/data/builder_support.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/data/text_normalization.h"

namespace reftune::data {

absl::StatusOr<size_t> ResolveRowCount(int64_t requested, size_t available, std::string_view what,
                                       std::string_view flag) {
  if (requested == kAllRows) return available;
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbslView(flag), " must be >= 0 or -1 for "
                                                   "all rows, got ", requested));
  }
  if (static_cast<size_t>(requested) > available) {
    return absl::InvalidArgumentError(absl::StrCat("requested ", requested, " ", AsAbslView(what),
                                                   " but only ", available, " are available; "
                                                   "lower ", AsAbslView(flag)));
  }
  return static_cast<size_t>(requested);
}

Record MakeRecord(std::string prompt, std::string response, std::string source,
                  std::optional<bool> harmful, std::optional<bool> poison, std::string label) {
  Record record;
  record.prompt = std::move(prompt);
  record.response = std::move(response);
  record.meta = RecordMeta{std::move(source), harmful, poison, std::move(label)};
  return record;
}

}  // namespace reftune::data
