// A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster made with initdb in a
// temporary folder, listening on a free loopback port, removed when the object is destroyed.
#ifndef REFTUNE_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
#define REFTUNE_TESTS_SUPPORT_POSTGRES_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reftune::test_support {

struct PostgresClusterOptions {
  // Folder with initdb, pg_ctl and postgres (Debian 12 does not put it on PATH).
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  // Parent of the temporary cluster folder. It must let the postgres user reach the folder, which
  // /tmp (mode 1777) does.
  std::string parent_dir = "/tmp";
  // False turns off fsync, synchronous_commit and full_page_writes: faster tests, no crash
  // safety. Benchmarks set true so commits cost what they cost in production.
  bool durable = false;
  int max_connections = 200;
  // Seconds pg_ctl waits for the server to start or stop.
  int pg_ctl_timeout_seconds = 60;
};

// Not thread-safe. initdb and the server refuse to run as root, so when the process is root the
// cluster folder is given to the `postgres` user and the commands run through
// `runuser -u postgres --`; otherwise they run as the current user. Either way the superuser
// role is named "postgres" and loopback connections need no password.
class PostgresCluster {
 public:
  // Creates the folder, runs initdb, starts the server and creates the database "reftune_test".
  // On failure everything made so far is stopped and removed, and the status carries the tail of
  // the command output.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start(PostgresClusterOptions options = {});

  // Stops the server (fast shutdown) and removes the folder.
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // libpq connection string for `database` over TCP on 127.0.0.1.
  std::string ConnectionString(const std::string& database = "reftune_test") const;

  // Creates an empty database and returns its connection string; ALREADY_EXISTS if it exists.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);

  // Stops the server, closing every client connection, and starts it again on the same port.
  absl::Status Restart();

  absl::Status StopServer();
  absl::Status StartServer();

  int port() const { return port_; }
  const std::string& directory() const { return directory_; }

 private:
  explicit PostgresCluster(PostgresClusterOptions options) : options_(std::move(options)) {}

  absl::Status Initialize();
  // Runs `argv` (as postgres when root) with output appended to the folder's commands.log.
  absl::Status RunAsOwner(const std::vector<std::string>& argv);
  std::string LogTail() const;

  const PostgresClusterOptions options_;
  std::string directory_;
  std::string data_dir_;
  int port_ = 0;
  bool running_ = false;
};

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
absl::StatusOr<int> PickFreeLoopbackPort();

}  // namespace reftune::test_support

#endif  // REFTUNE_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
