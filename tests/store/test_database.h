// Opens a migrated Database on a fresh database of the suite's cluster.
#ifndef REFTUNE_TESTS_STORE_TEST_DATABASE_H_
#define REFTUNE_TESTS_STORE_TEST_DATABASE_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/store/database.h"
#include "core/store/tenant_store.h"
#include "tests/support/postgres_environment.h"

namespace reftune::store {

inline std::unique_ptr<Database> OpenTestDatabase(DatabaseOptions options = {}) {
  if (options.connection_string.empty()) {
    options.connection_string = test_support::PostgresEnvironment::NewDatabase();
  }
  absl::StatusOr<std::unique_ptr<Database>> database = Database::Open(options);
  EXPECT_TRUE(database.ok()) << database.status();
  return database.ok() ? std::move(*database) : nullptr;
}

inline std::string CreateTestTenant(Database* database, const std::string& name,
                                    TenantLimits limits = {}) {
  TenantStore tenants(database);
  absl::StatusOr<Tenant> tenant = tenants.CreateTenant(name, limits);
  EXPECT_TRUE(tenant.ok()) << tenant.status();
  return tenant.ok() ? tenant->id : "";
}

}  // namespace reftune::store

#endif  // REFTUNE_TESTS_STORE_TEST_DATABASE_H_
