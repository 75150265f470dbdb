// UTF-8 checks and code-point counting for validation.
#ifndef REFTUNE_CORE_DATA_UTF8_H_
#define REFTUNE_CORE_DATA_UTF8_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace reftune::data {

// Returns the 0-based byte offset of the first byte that does not start a well-formed UTF-8
// sequence (overlong forms, surrogates and code points above U+10FFFF included), or nullopt when
// `text` is valid UTF-8.
std::optional<size_t> FindInvalidUtf8(std::string_view text);

// Returns `text` with every byte that does not start a well-formed UTF-8 sequence replaced by
// U+FFFD, for model output: byte-level tokens can decode to partial sequences, and protobuf
// refuses to serialise a string field that is not valid UTF-8.
std::string ReplaceInvalidUtf8(std::string_view text);

// Counts the code points in valid UTF-8 text (each byte that is not a continuation byte).
size_t CountCodePoints(std::string_view text);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_UTF8_H_
