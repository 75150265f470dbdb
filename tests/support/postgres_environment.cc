#include "tests/support/postgres_environment.h"

#include <atomic>

#include "absl/strings/str_cat.h"

namespace reftune::test_support {
namespace {

std::unique_ptr<PostgresCluster>& SharedCluster() {
  static auto* cluster = new std::unique_ptr<PostgresCluster>();
  return *cluster;
}

}  // namespace

void PostgresEnvironment::SetUp() {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << "starting the test PostgreSQL cluster failed: " << cluster.status();
  SharedCluster() = std::move(*cluster);
}

void PostgresEnvironment::TearDown() { SharedCluster().reset(); }

PostgresCluster& PostgresEnvironment::Cluster() { return *SharedCluster(); }

std::string PostgresEnvironment::NewDatabase() {
  static std::atomic<int> next_id{0};
  const std::string name = absl::StrCat("test_", next_id.fetch_add(1));
  absl::StatusOr<std::string> connection = Cluster().CreateDatabase(name);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? *connection : "";
}

}  // namespace reftune::test_support
