#include "core/store/postgres_error.h"

#include <string>

#include <pqxx/except>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace reftune::store {
namespace {

std::string Describe(absl::string_view operation, const std::exception& error) {
  // libpq messages end with a newline and sometimes carry a second "DETAIL" line; keep them intact
  // but trim the trailing whitespace so the status reads as one message.
  return absl::StrCat(operation, " failed: ", absl::StripTrailingAsciiWhitespace(error.what()));
}

absl::Status FromSqlError(const pqxx::sql_error& error, absl::string_view operation) {
  const std::string& state = error.sqlstate();
  const std::string message = Describe(operation, error);

  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    return absl::UnavailableError(message);
  }
  if (state == "40001" || state == "40P01") return absl::AbortedError(message);
  if (state == "23505") return absl::AlreadyExistsError(message);
  if (state == "23503") return absl::FailedPreconditionError(message);
  if (state == "23502" || state == "23514" || absl::StartsWith(state, "22")) {
    return absl::InvalidArgumentError(message);
  }
  return absl::InternalError(absl::StrCat(message, " (SQLSTATE ", state, ")"));
}

}  // namespace

absl::Status StatusFromException(const std::exception& error, absl::string_view operation) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    return absl::UnknownError(absl::StrCat(
        Describe(operation, error),
        "; the connection was lost during COMMIT, so the outcome is unknown: read the state back "
        "before retrying"));
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) {
    return absl::UnavailableError(Describe(operation, error));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error); sql != nullptr) {
    return FromSqlError(*sql, operation);
  }
  return absl::InternalError(Describe(operation, error));
}

bool IsRetryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsAborted(status);
}

}  // namespace reftune::store
