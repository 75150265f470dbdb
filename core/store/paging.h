// Page sizes and opaque page tokens for the listing calls.
#ifndef REFTUNE_CORE_STORE_PAGING_H_
#define REFTUNE_CORE_STORE_PAGING_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace reftune::store {

// Page size used when a request leaves page_size at 0.
inline constexpr int kDefaultPageSize = 50;
// Larger page sizes are lowered to this one.
inline constexpr int kMaxPageSize = 1000;

struct PageRequest {
  // Items per page: 0 means kDefaultPageSize, values above kMaxPageSize are lowered to it,
  // negative values are INVALID_ARGUMENT.
  int page_size = 0;
  // Empty for the first page, else the next_page_token of the previous page.
  std::string page_token;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // Empty on the last page.
  std::string next_page_token;
};

// Builds a page from `rows`, which were fetched with LIMIT page_size + 1: the first page_size rows
// become items through `convert`, and when the extra row exists `token_of(last item)` becomes
// next_page_token.
template <typename T, typename Rows, typename Convert, typename TokenOf>
Page<T> CollectPage(const Rows& rows, int page_size, Convert convert, TokenOf token_of) {
  Page<T> page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == page_size) {
      page.next_page_token = token_of(page.items.back());
      break;
    }
    page.items.push_back(convert(row));
  }
  return page;
}

// Returns the effective page size for `requested` (see PageRequest::page_size).
absl::StatusOr<int> ResolvePageSize(int requested);

// Position after the last row of a page ordered by (created_at DESC, id DESC).
struct TimeIdCursor {
  int64_t created_at_micros = 0;  // microseconds since the Unix epoch
  std::string id;
};

// Tokens are URL-safe base64 of a versioned text form, opaque to clients. Decoding rejects a
// token that was not produced by the matching encoder with INVALID_ARGUMENT.
std::string EncodeTimeIdCursor(const TimeIdCursor& cursor);
absl::StatusOr<TimeIdCursor> DecodeTimeIdCursor(absl::string_view token);

// Position after an event sequence number, for pages ordered by sequence ascending.
std::string EncodeSequenceCursor(int64_t sequence);
absl::StatusOr<int64_t> DecodeSequenceCursor(absl::string_view token);

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_PAGING_H_
