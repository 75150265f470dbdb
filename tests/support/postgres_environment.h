// A GoogleTest environment that starts one throwaway PostgreSQL cluster per test binary.
#ifndef REFTUNE_TESTS_SUPPORT_POSTGRES_ENVIRONMENT_H_
#define REFTUNE_TESTS_SUPPORT_POSTGRES_ENVIRONMENT_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/postgres_cluster.h"

namespace reftune::test_support {

// Register once per binary, before RUN_ALL_TESTS, e.g. at namespace scope in one test file:
//   const auto* const kPostgres =
//       ::testing::AddGlobalTestEnvironment(new reftune::test_support::PostgresEnvironment);
// If the cluster fails to start, SetUp records a fatal failure with initdb or pg_ctl output.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  // The running cluster; valid between SetUp and TearDown.
  static PostgresCluster& Cluster();

  // Creates a database with a unique name (so each test starts from an empty schema) and returns
  // its connection string. Fails the current test when creation fails.
  static std::string NewDatabase();
};

}  // namespace reftune::test_support

#endif  // REFTUNE_TESTS_SUPPORT_POSTGRES_ENVIRONMENT_H_
