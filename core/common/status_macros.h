// Early-return helpers for absl::Status and absl::StatusOr. Abseil 20220623 ships none.
#ifndef REFTUNE_CORE_COMMON_STATUS_MACROS_H_
#define REFTUNE_CORE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once and returns it from the calling function unless it is OK.
#define REFTUNE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status reftune_status_ = (expr);           \
    if (!reftune_status_.ok()) return reftune_status_; \
  } while (false)

#define REFTUNE_STATUS_MACROS_CONCAT_INNER(x, y) x##y
#define REFTUNE_STATUS_MACROS_CONCAT(x, y) REFTUNE_STATUS_MACROS_CONCAT_INNER(x, y)

#define REFTUNE_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else moves the value into
// `lhs`, which may be a declaration: REFTUNE_ASSIGN_OR_RETURN(auto model, LoadModel(path));
#define REFTUNE_ASSIGN_OR_RETURN(lhs, rexpr) \
  REFTUNE_ASSIGN_OR_RETURN_IMPL(             \
      REFTUNE_STATUS_MACROS_CONCAT(reftune_statusor_, __LINE__), lhs, rexpr)

#endif  // REFTUNE_CORE_COMMON_STATUS_MACROS_H_
