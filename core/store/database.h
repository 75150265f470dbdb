// Entry point to the reftune PostgreSQL database: a connection pool, the schema migrations and a
// helper that runs a transaction and retries it after a lost connection.
#ifndef REFTUNE_CORE_STORE_DATABASE_H_
#define REFTUNE_CORE_STORE_DATABASE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include <pqxx/transaction>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/connection_pool.h"

namespace reftune::store {

struct DatabaseOptions {
  // libpq connection string, e.g. "host=127.0.0.1 port=5432 dbname=reftune user=reftune".
  // Required. Never logged, because it may contain a password.
  std::string connection_string;

  // Connections opened at most at once. One connection serves one transaction at a time.
  int pool_size = 8;

  // How long a transaction waits for a free connection before DEADLINE_EXCEEDED.
  absl::Duration acquire_timeout = absl::Seconds(30);

  // Runs of a transaction that fails with a lost connection, a serialization failure or a
  // deadlock, including the first run. 1 disables retries.
  int max_attempts = 5;

  // Wait before the first retry; it doubles after each retry up to max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);

  // Apply the embedded schema migrations in Open (the services do; tools that only read may not).
  bool apply_migrations = true;
};

// Thread-safe: each transaction takes its own pooled connection.
class Database {
 public:
  using TransactionBody = std::function<absl::Status(pqxx::work&)>;

  // Checks the options, connects once and applies the migrations unless disabled.
  // INVALID_ARGUMENT for bad options, UNAVAILABLE when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<Database>> Open(DatabaseOptions options);

  // Runs `body` in one READ COMMITTED transaction and commits it when `body` returns OK; a non-OK
  // status from `body` rolls back and is returned unchanged. Exceptions thrown by `body` or the
  // commit become a Status naming `operation` (see StatusFromException). When the connection is
  // lost before COMMIT, or on a serialization failure or deadlock, the whole transaction runs
  // again on a fresh connection with backoff, up to max_attempts runs. A connection lost during
  // COMMIT is never retried: the result is UNKNOWN because the transaction may have committed.
  absl::Status Transact(absl::string_view operation, const TransactionBody& body);

  // Like Transact, for a body that produces a value.
  template <typename T>
  absl::StatusOr<T> TransactFor(absl::string_view operation,
                                const std::function<absl::StatusOr<T>(pqxx::work&)>& body) {
    std::optional<T> value;
    absl::Status status = Transact(operation, [&](pqxx::work& txn) -> absl::Status {
      absl::StatusOr<T> result = body(txn);
      if (!result.ok()) return result.status();
      value = std::move(result).value();
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return std::move(*value);
  }

  // Applies every embedded migration that is not yet recorded in schema_migrations. Safe to call
  // from several processes at once. Returns the number of migrations applied by this call.
  absl::StatusOr<int> Migrate();

  const DatabaseOptions& options() const { return options_; }

 private:
  explicit Database(DatabaseOptions options);

  // Runs `body` once on a pooled connection and closes that connection when it broke. Sets
  // *retryable when the failure came from the connection or the server and a rerun may succeed.
  absl::Status RunOnce(absl::string_view operation, const TransactionBody& body, bool* retryable);

  const DatabaseOptions options_;
  ConnectionPool pool_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_DATABASE_H_
