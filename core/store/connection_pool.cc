#include "core/store/connection_pool.h"

#include <chrono>
#include <utility>

#include <pqxx/except>

#include "absl/strings/str_cat.h"
#include "core/store/postgres_error.h"

namespace reftune::store {

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Return(std::move(connection_), discard_);
}

ConnectionPool::ConnectionPool(std::string connection_string, int max_connections)
    : connection_string_(std::move(connection_string)),
      max_connections_(max_connections < 1 ? 1 : max_connections) {}

absl::StatusOr<PooledConnection> ConnectionPool::Acquire(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (idle_.empty() && open_connections_ >= max_connections_) {
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_connections_ >= max_connections_) {
      return absl::DeadlineExceededError(
          absl::StrCat("no PostgreSQL connection became free within ", absl::FormatDuration(timeout),
                       " (pool size ", max_connections_, "); raise the pool size"));
    }
  }

  if (!idle_.empty()) {
    std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return PooledConnection(this, std::move(connection));
  }

  // Open outside the lock: connecting takes a network round trip or a timeout.
  ++open_connections_;
  lock.unlock();
  try {
    auto connection = std::make_unique<pqxx::connection>(connection_string_);
    return PooledConnection(this, std::move(connection));
  } catch (const std::exception& error) {
    lock.lock();
    --open_connections_;
    returned_.notify_one();
    return StatusFromException(error, "connect to PostgreSQL");
  }
}

void ConnectionPool::Return(std::unique_ptr<pqxx::connection> connection, bool discard) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (discard || !connection->is_open()) {
    --open_connections_;
    connection.reset();
  } else {
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

}  // namespace reftune::store
