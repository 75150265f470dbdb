// Small conversions between libpqxx fields or parameters and the C++ types the stores return.
#ifndef REFTUNE_CORE_STORE_SQL_VALUES_H_
#define REFTUNE_CORE_STORE_SQL_VALUES_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include <pqxx/pqxx>

#include "absl/time/time.h"

namespace reftune::store {

// SQL expression that reads timestamptz column `column` as bigint microseconds since the epoch,
// named `column` in the result: "(extract(epoch FROM created_at) * 1000000)::bigint AS created_at".
std::string MicrosColumn(absl::string_view column);

// Reads a column produced by MicrosColumn.
absl::Time TimeField(const pqxx::field& field);
std::optional<absl::Time> OptionalTimeField(const pqxx::field& field);
std::optional<std::string> OptionalStringField(const pqxx::field& field);

// A parameter that is SQL NULL when `value` is unset: libpqxx 6.4 sends a null const char* as NULL.
inline const char* NullableParam(const std::optional<std::string>& value) {
  return value.has_value() ? value->c_str() : nullptr;
}

// Lowercase hex SHA-256 of `data`, computed with OpenSSL.
std::string Sha256Hex(absl::string_view data);

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_SQL_VALUES_H_
