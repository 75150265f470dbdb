#include "core/store/paging.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reftune::store {
namespace {

constexpr absl::string_view kTimeIdVersion = "t1";
constexpr absl::string_view kSequenceVersion = "s1";

absl::Status MalformedToken(absl::string_view token) {
  return absl::InvalidArgumentError(absl::StrCat(
      "page_token \"", token,
      "\" is malformed; pass the next_page_token of the previous page unchanged, or an empty "
      "token for the first page"));
}

// Returns the colon-separated fields of a token, or an empty vector when it is not base64.
std::vector<std::string> TokenFields(absl::string_view token) {
  std::string decoded;
  if (token.empty() || !absl::WebSafeBase64Unescape(token, &decoded)) return {};
  return absl::StrSplit(decoded, absl::MaxSplits(':', 2));
}

}  // namespace

absl::StatusOr<int> ResolvePageSize(int requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be 0 (default ", kDefaultPageSize, ") or positive, got ", requested));
  }
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

std::string EncodeTimeIdCursor(const TimeIdCursor& cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kTimeIdVersion, ":", cursor.created_at_micros, ":", cursor.id));
}

absl::StatusOr<TimeIdCursor> DecodeTimeIdCursor(absl::string_view token) {
  std::vector<std::string> fields = TokenFields(token);
  TimeIdCursor cursor;
  if (fields.size() != 3 || fields[0] != kTimeIdVersion ||
      !absl::SimpleAtoi(fields[1], &cursor.created_at_micros) || fields[2].empty()) {
    return MalformedToken(token);
  }
  cursor.id = fields[2];
  return cursor;
}

std::string EncodeSequenceCursor(int64_t sequence) {
  return absl::WebSafeBase64Escape(absl::StrCat(kSequenceVersion, ":", sequence));
}

absl::StatusOr<int64_t> DecodeSequenceCursor(absl::string_view token) {
  std::vector<std::string> fields = TokenFields(token);
  int64_t sequence = 0;
  if (fields.size() != 2 || fields[0] != kSequenceVersion || !absl::SimpleAtoi(fields[1], &sequence) ||
      sequence < 0) {
    return MalformedToken(token);
  }
  return sequence;
}

}  // namespace reftune::store
