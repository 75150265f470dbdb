// Conversion of libpqxx exceptions into absl::Status values that name the failed operation.
#ifndef REFTUNE_CORE_STORE_POSTGRES_ERROR_H_
#define REFTUNE_CORE_STORE_POSTGRES_ERROR_H_

#include <exception>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace reftune::store {

// Maps an exception thrown while running `operation` to a Status:
//   pqxx::broken_connection, SQLSTATE class 08 and server shutdown (57P01..57P03) -> UNAVAILABLE
//   pqxx::in_doubt_error (connection lost during COMMIT)                           -> UNKNOWN
//   serialization failure and deadlock (40001, 40P01)                              -> ABORTED
//   unique and foreign-key violations                                              -> ALREADY_EXISTS,
//                                                                                     FAILED_PRECONDITION
//   check and not-null violations, invalid text representation (22xxx)             -> INVALID_ARGUMENT
//   anything else                                                                  -> INTERNAL
// The message starts with `operation`; connection strings never appear in it.
absl::Status StatusFromException(const std::exception& error, absl::string_view operation);

// True for the failures after which a fresh connection and a rerun of the whole transaction can
// succeed: UNAVAILABLE (connection lost before COMMIT) and ABORTED (serialization or deadlock).
bool IsRetryable(const absl::Status& status);

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_POSTGRES_ERROR_H_
