// One throwaway PostgreSQL cluster for the whole jobs suite.
#include "tests/support/postgres_environment.h"

namespace {
const auto* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new reftune::test_support::PostgresEnvironment);
}  // namespace
