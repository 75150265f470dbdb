#include "core/data/text_normalization.h"

#include "absl/strings/ascii.h"

namespace reftune::data {

std::string NormalizeForMatch(std::string_view text) {
  constexpr std::string_view kRightQuote = "\xE2\x80\x99";
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    if (text.compare(i, kRightQuote.size(), kRightQuote) == 0) {
      out.push_back('\'');
      i += kRightQuote.size() - 1;
      continue;
    }
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace reftune::data
