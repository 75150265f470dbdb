// Text helpers shared by the builders and the judge.
#ifndef REFTUNE_CORE_DATA_TEXT_NORMALIZATION_H_
#define REFTUNE_CORE_DATA_TEXT_NORMALIZATION_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace reftune::data {

// Debian's Abseil 20220623 keeps its own absl::string_view type, which does not convert from
// std::string_view implicitly.
inline absl::string_view AsAbslView(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// Lowercases ASCII letters, turns the typographic apostrophe U+2019 into "'", collapses each run
// of ASCII whitespace into one space and trims both ends. Used for comparisons that should ignore
// case and spacing: deduplication keys, disjointness checks and refusal matching.
std::string NormalizeForMatch(std::string_view text);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_TEXT_NORMALIZATION_H_
