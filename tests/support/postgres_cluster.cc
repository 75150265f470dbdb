#include "tests/support/postgres_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace reftune::test_support {
namespace {

constexpr char kRunuser[] = "/usr/sbin/runuser";
constexpr size_t kLogTailBytes = 3000;

std::string ReadTail(const std::string& path) {
  std::ifstream file(path);
  if (!file) return "";
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string text = buffer.str();
  if (text.size() > kLogTailBytes) text = text.substr(text.size() - kLogTailBytes);
  return text;
}

}  // namespace

absl::StatusOr<int> PickFreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket failed: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("binding 127.0.0.1:0 failed: ", error));
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start(
    PostgresClusterOptions options) {
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster(std::move(options)));
  // On failure the destructor stops whatever started and removes the folder.
  if (absl::Status status = cluster->Initialize(); !status.ok()) return status;
  return cluster;
}

absl::Status PostgresCluster::Initialize() {
  std::string pattern = options_.parent_dir + "/reftune-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp in ", options_.parent_dir,
                                            " failed: ", std::strerror(errno)));
  }
  directory_ = pattern;
  data_dir_ = directory_ + "/data";

  if (geteuid() == 0) {
    const passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) {
      return absl::FailedPreconditionError(
          "running as root but there is no postgres user; install the postgresql package");
    }
    if (chown(directory_.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
      return absl::InternalError(
          absl::StrCat("chown of ", directory_, " to postgres failed: ", std::strerror(errno)));
    }
  }

  absl::StatusOr<int> port = PickFreeLoopbackPort();
  if (!port.ok()) return port.status();
  port_ = *port;

  absl::Status initialized =
      RunAsOwner({options_.bin_dir + "/initdb", "-D", data_dir_, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"});
  if (!initialized.ok()) return initialized;
  if (absl::Status started = StartServer(); !started.ok()) return started;
  return CreateDatabase("reftune_test").status();
}

PostgresCluster::~PostgresCluster() {
  if (running_) StopServer().IgnoreError();
  if (!directory_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

std::string PostgresCluster::ConnectionString(const std::string& database) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=postgres dbname=", database,
                      " connect_timeout=10");
}

absl::StatusOr<std::string> PostgresCluster::CreateDatabase(const std::string& name) {
  try {
    pqxx::connection connection(ConnectionString("postgres"));
    pqxx::nontransaction txn(connection);
    txn.exec("CREATE DATABASE " + txn.quote_name(name));
  } catch (const pqxx::sql_error& error) {
    if (error.sqlstate() == "42P04") {
      return absl::AlreadyExistsError(absl::StrCat("database \"", name, "\" already exists"));
    }
    return absl::InternalError(absl::StrCat("CREATE DATABASE ", name, " failed: ", error.what()));
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("connecting to create database ", name, " failed: ", error.what()));
  }
  return ConnectionString(name);
}

absl::Status PostgresCluster::StartServer() {
  const std::string server_options = absl::StrCat(
      "-p ", port_, " -k ", directory_, " -c listen_addresses=127.0.0.1 -c max_connections=",
      options_.max_connections,
      options_.durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
  absl::Status status = RunAsOwner({options_.bin_dir + "/pg_ctl", "-D", data_dir_, "-l",
                                    directory_ + "/server.log", "-w", "-t",
                                    absl::StrCat(options_.pg_ctl_timeout_seconds), "-o",
                                    server_options, "start"});
  if (status.ok()) running_ = true;
  return status;
}

absl::Status PostgresCluster::StopServer() {
  absl::Status status =
      RunAsOwner({options_.bin_dir + "/pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t",
                  absl::StrCat(options_.pg_ctl_timeout_seconds), "stop"});
  if (status.ok()) running_ = false;
  return status;
}

absl::Status PostgresCluster::Restart() {
  if (absl::Status stopped = StopServer(); !stopped.ok()) return stopped;
  return StartServer();
}

absl::Status PostgresCluster::RunAsOwner(const std::vector<std::string>& argv) {
  std::vector<std::string> command;
  if (geteuid() == 0) command = {kRunuser, "-u", "postgres", "--"};
  command.insert(command.end(), argv.begin(), argv.end());
  std::vector<char*> raw;
  for (std::string& part : command) raw.push_back(part.data());
  raw.push_back(nullptr);

  const std::string log_path = directory_ + "/commands.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);

  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  const std::string printable = absl::StrJoin(command, " ");
  if (spawn_error != 0) {
    return absl::InternalError(
        absl::StrCat("starting `", printable, "` failed: ", std::strerror(spawn_error)));
  }

  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid for `", printable, "` failed"));
    }
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("`", printable, "` failed with wait status ",
                                          wait_status, "; output:\n", LogTail()));
}

std::string PostgresCluster::LogTail() const {
  return absl::StrCat(ReadTail(directory_ + "/commands.log"), "\n--- server.log ---\n",
                      ReadTail(directory_ + "/server.log"));
}

}  // namespace reftune::test_support
