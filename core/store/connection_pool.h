// A bounded pool of libpqxx connections, opened lazily and replaced when they break.
#ifndef REFTUNE_CORE_STORE_CONNECTION_POOL_H_
#define REFTUNE_CORE_STORE_CONNECTION_POOL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reftune::store {

class ConnectionPool;

// Exclusive use of one pooled connection. The destructor returns the connection to the pool unless
// Discard() was called, in which case it is closed and a later Acquire opens a fresh one.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();

  pqxx::connection& get() { return *connection_; }

  // Closes the connection instead of returning it: use after pqxx::broken_connection.
  void Discard() { discard_ = true; }

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}

  ConnectionPool* pool_;
  std::unique_ptr<pqxx::connection> connection_;
  bool discard_ = false;
};

// Thread-safe. A libpqxx 6.4 connection is not, so each connection is handed to one caller at a
// time. The pool must outlive every PooledConnection it hands out.
class ConnectionPool {
 public:
  // `connection_string` is a libpq conninfo string; `max_connections` must be at least 1.
  ConnectionPool(std::string connection_string, int max_connections);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Returns an idle connection, opens a new one while fewer than max_connections exist, or waits
  // up to `timeout` for one to come back. DEADLINE_EXCEEDED when none comes back in time,
  // UNAVAILABLE when the server refuses the connection.
  absl::StatusOr<PooledConnection> Acquire(absl::Duration timeout);

  const std::string& connection_string() const { return connection_string_; }

 private:
  friend class PooledConnection;
  void Return(std::unique_ptr<pqxx::connection> connection, bool discard);

  const std::string connection_string_;
  const int max_connections_;

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_connections_ = 0;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_CONNECTION_POOL_H_
