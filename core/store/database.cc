#include "core/store/database.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/store/migrations.h"
#include "core/store/postgres_error.h"
#include "glog/logging.h"

namespace reftune::store {
namespace {

absl::Status ValidateOptions(const DatabaseOptions& options) {
  if (options.connection_string.empty()) {
    return absl::InvalidArgumentError(
        "database connection_string is empty; pass a libpq conninfo such as "
        "\"host=127.0.0.1 port=5432 dbname=reftune\"");
  }
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("database pool_size must be at least 1, got ", options.pool_size));
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("database max_attempts must be at least 1, got ", options.max_attempts));
  }
  if (options.acquire_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("database acquire_timeout must be positive, got ",
                                                   absl::FormatDuration(options.acquire_timeout)));
  }
  return absl::OkStatus();
}

}  // namespace

Database::Database(DatabaseOptions options)
    : options_(std::move(options)), pool_(options_.connection_string, options_.pool_size) {}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(DatabaseOptions options) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) return status;
  std::unique_ptr<Database> database(new Database(std::move(options)));

  // Connect once now so that a wrong address fails at start-up, not at the first request.
  absl::Status reachable = database->Transact("check the PostgreSQL connection",
                                              [](pqxx::work& txn) -> absl::Status {
                                                txn.exec("SELECT 1");
                                                return absl::OkStatus();
                                              });
  if (!reachable.ok()) return reachable;

  if (database->options_.apply_migrations) {
    absl::StatusOr<int> applied = database->Migrate();
    if (!applied.ok()) return applied.status();
    LOG(INFO) << "database schema is current; " << *applied << " migration(s) applied now";
  }
  return database;
}

absl::Status Database::Transact(absl::string_view operation, const TransactionBody& body) {
  absl::Duration backoff = options_.initial_backoff;
  absl::Status status;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    bool retryable = false;
    status = RunOnce(operation, body, &retryable);
    if (!retryable || attempt == options_.max_attempts) break;

    LOG(WARNING) << "retrying " << operation << " in " << absl::FormatDuration(backoff)
                 << " (run " << attempt << " of " << options_.max_attempts
                 << "): " << status.message();
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return status;
}

absl::Status Database::RunOnce(absl::string_view operation, const TransactionBody& body,
                               bool* retryable) {
  absl::StatusOr<PooledConnection> connection = pool_.Acquire(options_.acquire_timeout);
  if (!connection.ok()) {
    *retryable = absl::IsUnavailable(connection.status());
    return absl::Status(connection.status().code(),
                        absl::StrCat(operation, ": ", connection.status().message()));
  }

  try {
    pqxx::work txn(connection->get());
    absl::Status status = body(txn);
    if (!status.ok()) return status;  // The transaction's destructor rolls back.
    txn.commit();
    return absl::OkStatus();
  } catch (const std::exception& error) {
    absl::Status status = StatusFromException(error, operation);
    // A lost or doubtful connection is closed; the pool opens a new one for the next caller.
    if (absl::IsUnavailable(status) || absl::IsUnknown(status)) connection->Discard();
    // Only failures raised by PostgreSQL are retried; a status the body returns is final.
    *retryable = IsRetryable(status);
    return status;
  }
}

}  // namespace reftune::store

namespace reftune::store {

absl::StatusOr<int> Database::Migrate() {
  int applied_total = 0;
  for (const Migration& migration : EmbeddedMigrations()) {
    bool applied = false;
    const std::string operation =
        absl::StrCat("apply migration ", migration.version, " (", migration.name, ")");
    absl::Status status = Transact(operation, [&](pqxx::work& txn) -> absl::Status {
      applied = false;
      // The lock ends with the transaction, so a second process waits here and then finds the
      // version recorded.
      txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      txn.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "  version integer PRIMARY KEY,"
          "  name text NOT NULL,"
          "  applied_at timestamptz NOT NULL DEFAULT now())");
      pqxx::result recorded =
          txn.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", migration.version);
      if (!recorded.empty()) return absl::OkStatus();

      txn.exec(migration.sql);
      txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                      migration.version, migration.name);
      applied = true;
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (applied) {
      LOG(INFO) << "applied database migration " << migration.version << " (" << migration.name
                << ")";
      ++applied_total;
    }
  }
  return applied_total;
}

}  // namespace reftune::store
