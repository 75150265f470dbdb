#include "core/store/database.h"

#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/store/migrations.h"
#include "tests/store/test_database.h"
#include "tests/support/postgres_environment.h"

namespace reftune::store {
namespace {

using test_support::PostgresEnvironment;

int64_t CountRows(Database* database, const std::string& table) {
  absl::StatusOr<int64_t> count = database->TransactFor<int64_t>(
      "count rows", [&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
        return txn.exec("SELECT count(*) FROM " + table)[0][0].as<int64_t>();
      });
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : -1;
}

TEST(Database, MigrateTwiceAppliesNothingNew) {
  std::unique_ptr<Database> database = OpenTestDatabase();
  ASSERT_NE(database, nullptr);
  EXPECT_EQ(CountRows(database.get(), "schema_migrations"),
            static_cast<int64_t>(EmbeddedMigrations().size()));

  absl::StatusOr<int> again = database->Migrate();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(CountRows(database.get(), "schema_migrations"),
            static_cast<int64_t>(EmbeddedMigrations().size()));
}

TEST(Database, ConcurrentMigrationsApplyEachOnce) {
  DatabaseOptions options;
  options.connection_string = PostgresEnvironment::NewDatabase();
  options.apply_migrations = false;
  std::unique_ptr<Database> first = OpenTestDatabase(options);
  std::unique_ptr<Database> second = OpenTestDatabase(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  absl::StatusOr<int> applied_first = absl::UnknownError("not run");
  absl::StatusOr<int> applied_second = absl::UnknownError("not run");
  std::thread a([&] { applied_first = first->Migrate(); });
  std::thread b([&] { applied_second = second->Migrate(); });
  a.join();
  b.join();

  ASSERT_TRUE(applied_first.ok()) << applied_first.status();
  ASSERT_TRUE(applied_second.ok()) << applied_second.status();
  EXPECT_EQ(*applied_first + *applied_second, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(CountRows(first.get(), "jobs"), 0);
}

TEST(Database, OpenRejectsInvalidOptions) {
  DatabaseOptions options;
  absl::StatusOr<std::unique_ptr<Database>> empty = Database::Open(options);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()), ::testing::HasSubstr("connection_string"));

  options.connection_string = PostgresEnvironment::Cluster().ConnectionString();
  options.pool_size = 0;
  absl::StatusOr<std::unique_ptr<Database>> no_pool = Database::Open(options);
  EXPECT_EQ(no_pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_pool.status().message()), ::testing::HasSubstr("pool_size"));
}

TEST(Database, UnreachableServerIsUnavailable) {
  absl::StatusOr<int> port = test_support::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  DatabaseOptions options;
  options.connection_string = "host=127.0.0.1 port=" + std::to_string(*port) + " user=postgres";
  options.max_attempts = 2;
  options.initial_backoff = absl::Milliseconds(10);
  absl::StatusOr<std::unique_ptr<Database>> database = Database::Open(options);
  EXPECT_EQ(database.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(database.status().message()),
              ::testing::HasSubstr("connect to PostgreSQL"));
}

TEST(Database, SqlErrorNamesOperation) {
  std::unique_ptr<Database> database = OpenTestDatabase();
  ASSERT_NE(database, nullptr);
  absl::Status status = database->Transact("read table nope", [](pqxx::work& txn) {
    txn.exec("SELECT * FROM nope");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("read table nope failed"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("42P01"));
}

TEST(Database, BodyErrorRollsBack) {
  std::unique_ptr<Database> database = OpenTestDatabase();
  ASSERT_NE(database, nullptr);
  absl::Status status = database->Transact("insert then fail", [](pqxx::work& txn) {
    txn.exec("INSERT INTO workers (id, host) VALUES ('w', 'h')");
    return absl::FailedPreconditionError("stop here");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountRows(database.get(), "workers"), 0);
}

// The restart closes every connection of the cluster. Tests run one at a time and each opens its
// own Database, so no other test sees it.
TEST(Database, NextCallSucceedsAfterServerRestart) {
  DatabaseOptions options;
  options.pool_size = 2;
  std::unique_ptr<Database> database = OpenTestDatabase(options);
  ASSERT_NE(database, nullptr);
  ASSERT_EQ(CountRows(database.get(), "jobs"), 0);  // the pooled connection is now open

  ASSERT_TRUE(PostgresEnvironment::Cluster().Restart().ok());

  // The pooled connection died with the old server; the store reconnects and reruns.
  absl::Status status = database->Transact("insert a worker after restart", [](pqxx::work& txn) {
    txn.exec("INSERT INTO workers (id, host) VALUES ('after-restart', 'h')");
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(CountRows(database.get(), "workers"), 1);
}

}  // namespace
}  // namespace reftune::store
