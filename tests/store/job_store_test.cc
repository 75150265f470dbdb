#include "core/store/job_store.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/test_database.h"

namespace reftune::store {
namespace {

using ::testing::HasSubstr;
using jobs::JobKind;
using jobs::JobState;

NewJob CustomerJob(const std::string& request_id, const std::string& config = R"({"lr": 0.001})") {
  NewJob job;
  job.kind = JobKind::kCustomer;
  job.config_json = config;
  job.request_id = request_id;
  return job;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = OpenTestDatabase();
    ASSERT_NE(database_, nullptr);
    tenant_ = CreateTestTenant(database_.get(), "acme");
    other_tenant_ = CreateTestTenant(database_.get(), "globex");
    store_ = std::make_unique<JobStore>(database_.get());
  }

  std::unique_ptr<Database> database_;
  std::unique_ptr<JobStore> store_;
  std::string tenant_;
  std::string other_tenant_;
};

TEST_F(JobStoreTest, CreateStoresQueuedJobAndEvent) {
  absl::StatusOr<CreateJobResult> created = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->job.state, JobState::kQueued);
  EXPECT_EQ(created->job.config_json, R"({"lr": 0.001})");
  EXPECT_EQ(created->job.attempt, 0);
  EXPECT_EQ(created->job.max_attempts, 3);
  EXPECT_EQ(created->job.last_event_sequence, 1);

  absl::StatusOr<Page<JobEvent>> events = store_->ListJobEvents(tenant_, created->job.id, {});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->items.size(), 1u);
  EXPECT_EQ(events->items[0].type, kStateChangedEvent);
  EXPECT_THAT(events->items[0].payload_json, HasSubstr(R"("to": "QUEUED")"));
}

TEST_F(JobStoreTest, ReplayReturnsOriginalJob) {
  absl::StatusOr<CreateJobResult> first = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(first.ok()) << first.status();
  // Same request with other key order and spacing: the canonical config is equal.
  absl::StatusOr<CreateJobResult> replay =
      store_->CreateJob(tenant_, CustomerJob("r1", R"({ "lr" : 0.001 })"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->job.id, first->job.id);
}

TEST_F(JobStoreTest, ReusedRequestIdWithOtherConfigFails) {
  absl::StatusOr<CreateJobResult> first = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<CreateJobResult> conflict =
      store_->CreateJob(tenant_, CustomerJob("r1", R"({"lr": 0.01})"));
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(conflict.status().message()), HasSubstr("request_id \"r1\""));
  EXPECT_THAT(std::string(conflict.status().message()), HasSubstr(first->job.id));
}

TEST_F(JobStoreTest, RequestIdIsScopedToTenant) {
  absl::StatusOr<CreateJobResult> first = store_->CreateJob(tenant_, CustomerJob("r1"));
  absl::StatusOr<CreateJobResult> second = store_->CreateJob(other_tenant_, CustomerJob("r1"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->created);
  EXPECT_NE(first->job.id, second->job.id);
}

TEST_F(JobStoreTest, CreateRejectsInvalidRequests) {
  struct Case {
    std::string name;
    NewJob job;
    std::string message;
  };
  NewJob no_request = CustomerJob("");
  NewJob not_json = CustomerJob("r2", "{lr: 1");
  NewJob array = CustomerJob("r3", "[1, 2]");
  NewJob no_attempts = CustomerJob("r4");
  no_attempts.max_attempts = 0;
  const Case cases[] = {
      {"empty request id", no_request, "request_id is empty"},
      {"config not JSON", not_json, "job config must be a JSON object"},
      {"config is array", array, "job config must be a JSON object"},
      {"zero attempts", no_attempts, "max_attempts must be at least 1, got 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<CreateJobResult> result = store_->CreateJob(tenant_, c.job);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(c.message));
  }
}

TEST_F(JobStoreTest, ConcurrentJobLimitIsResourceExhausted) {
  TenantStore tenants(database_.get());
  ASSERT_TRUE(tenants.SetLimits(tenant_, TenantLimits{2, 1000}).ok());
  ASSERT_TRUE(store_->CreateJob(tenant_, CustomerJob("a")).ok());
  absl::StatusOr<CreateJobResult> second = store_->CreateJob(tenant_, CustomerJob("b"));
  ASSERT_TRUE(second.ok());

  absl::StatusOr<CreateJobResult> third = store_->CreateJob(tenant_, CustomerJob("c"));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("the limit is 2"));

  // A finished job frees its slot.
  ASSERT_TRUE(store_->CancelJob(tenant_, second->job.id).ok());
  EXPECT_TRUE(store_->CreateJob(tenant_, CustomerJob("c")).ok());
}

TEST_F(JobStoreTest, OtherTenantsJobIsNotFound) {
  absl::StatusOr<CreateJobResult> created = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(created.ok());
  const std::string& id = created->job.id;

  EXPECT_EQ(store_->GetJob(other_tenant_, id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->CancelJob(other_tenant_, id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListJobEvents(other_tenant_, id, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetJob(tenant_, id).ok());
}

TEST_F(JobStoreTest, CancelQueuedJobIsImmediate) {
  absl::StatusOr<CreateJobResult> created = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(created.ok());
  absl::StatusOr<JobRecord> cancelled = store_->CancelJob(tenant_, created->job.id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_TRUE(cancelled->finished_at.has_value());

  absl::StatusOr<JobRecord> again = store_->CancelJob(tenant_, created->job.id);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("already CANCELLED"));
}

TEST_F(JobStoreTest, WorkerTransitionNeedsLease) {
  absl::StatusOr<CreateJobResult> created = store_->CreateJob(tenant_, CustomerJob("r1"));
  ASSERT_TRUE(created.ok());
  WorkerTransition transition;
  transition.to = JobState::kScreening;
  absl::StatusOr<JobRecord> moved = store_->TransitionAsWorker(created->job.id, "w1", transition);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(moved.status().message()), HasSubstr("no longer holds the lease"));

  EXPECT_EQ(store_->RecordProgress(created->job.id, "w1", 0.5, "{}").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RecordProgress(created->job.id, "w1", 1.5, "{}").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::store
