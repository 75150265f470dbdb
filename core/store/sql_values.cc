#include "core/store/sql_values.h"

#include <cstdint>

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace reftune::store {

std::string MicrosColumn(absl::string_view column) {
  // The result column takes the unqualified name: "t.created_at" is read as "created_at".
  const size_t dot = column.rfind('.');
  const absl::string_view name = dot == absl::string_view::npos ? column : column.substr(dot + 1);
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint AS ", name);
}

absl::Time TimeField(const pqxx::field& field) {
  return absl::FromUnixMicros(field.as<int64_t>());
}

std::optional<absl::Time> OptionalTimeField(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return TimeField(field);
}

std::optional<std::string> OptionalStringField(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace reftune::store
