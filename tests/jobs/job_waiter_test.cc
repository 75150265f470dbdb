#include "core/jobs/job_waiter.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "core/store/job_store.h"
#include "core/store/tenant_store.h"
#include "tests/support/postgres_environment.h"

namespace reftune::jobs {
namespace {

TEST(JobWaiter, WakesWhenJobIsCreated) {
  store::DatabaseOptions options;
  options.connection_string = test_support::PostgresEnvironment::NewDatabase();
  absl::StatusOr<std::unique_ptr<store::Database>> database = store::Database::Open(options);
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<store::Tenant> tenant =
      store::TenantStore(database->get()).CreateTenant("acme", {});
  ASSERT_TRUE(tenant.ok());
  absl::StatusOr<std::unique_ptr<JobWaiter>> waiter =
      JobWaiter::Create(options.connection_string);
  ASSERT_TRUE(waiter.ok()) << waiter.status();

  // With an empty queue the wait runs out and reports no job.
  EXPECT_FALSE((*waiter)->WaitForQueuedJob(absl::Milliseconds(200)));

  // The poll interval is far longer than the test, so only the NOTIFY can end this wait early.
  std::atomic<bool> woke{false};
  absl::Duration waited;
  std::thread worker([&] {
    const absl::Time start = absl::Now();
    woke = (*waiter)->WaitForQueuedJob(absl::Seconds(60));
    waited = absl::Now() - start;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  store::NewJob job;
  job.config_json = "{}";
  job.request_id = "r1";
  ASSERT_TRUE(store::JobStore(database->get()).CreateJob(tenant->id, job).ok());
  worker.join();

  EXPECT_TRUE(woke);
  EXPECT_LT(waited, absl::Seconds(30)) << "woke only after " << waited;
}

}  // namespace
}  // namespace reftune::jobs
