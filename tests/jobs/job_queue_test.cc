#include "core/jobs/job_queue.h"

#include <thread>

#include "absl/time/clock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/store/job_store.h"
#include "core/store/tenant_store.h"
#include "tests/support/postgres_environment.h"

namespace reftune::jobs {
namespace {

using ::testing::HasSubstr;
using store::JobRecord;

// Leases this short expire within a test; the database clock decides expiry.
constexpr absl::Duration kLease = absl::Seconds(1);
constexpr absl::Duration kPastLease = absl::Milliseconds(1300);

class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::DatabaseOptions options;
    options.connection_string = test_support::PostgresEnvironment::NewDatabase();
    absl::StatusOr<std::unique_ptr<store::Database>> database = store::Database::Open(options);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::move(*database);
    absl::StatusOr<store::Tenant> tenant =
        store::TenantStore(database_.get()).CreateTenant("acme", store::TenantLimits{50, 1000});
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = tenant->id;
    jobs_ = std::make_unique<store::JobStore>(database_.get());
    queue_ = std::make_unique<JobQueue>(database_.get(), JobQueueOptions{kLease, 100});
  }

  std::string CreateJob(const std::string& request_id, JobKind kind = JobKind::kCustomer,
                        int max_attempts = 3) {
    store::NewJob job;
    job.kind = kind;
    job.config_json = "{}";
    job.request_id = request_id;
    job.max_attempts = max_attempts;
    absl::StatusOr<store::CreateJobResult> created = jobs_->CreateJob(tenant_, job);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->job.id : "";
  }

  JobRecord ClaimOne(const std::string& worker, std::optional<JobKind> kind = std::nullopt) {
    absl::StatusOr<std::optional<JobRecord>> claimed = queue_->Claim(worker, kind);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    if (claimed.ok()) EXPECT_TRUE(claimed->has_value()) << "queue was empty";
    return claimed.ok() && claimed->has_value() ? **claimed : JobRecord{};
  }

  JobRecord Get(const std::string& job_id) {
    absl::StatusOr<JobRecord> job = jobs_->GetJob(tenant_, job_id);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : JobRecord{};
  }

  int Reap() {
    absl::StatusOr<int> reaped = queue_->ReapExpiredLeases();
    EXPECT_TRUE(reaped.ok()) << reaped.status();
    return reaped.ok() ? *reaped : -1;
  }

  std::unique_ptr<store::Database> database_;
  std::unique_ptr<store::JobStore> jobs_;
  std::unique_ptr<JobQueue> queue_;
  std::string tenant_;
};

TEST_F(JobQueueTest, ClaimTakesOldestAndGrantsLease) {
  const std::string first = CreateJob("a");
  CreateJob("b");
  JobRecord claimed = ClaimOne("w1");
  EXPECT_EQ(claimed.id, first);
  EXPECT_EQ(claimed.state, JobState::kScreening);
  EXPECT_EQ(claimed.attempt, 1);
  EXPECT_EQ(claimed.lease_owner, "w1");
  ASSERT_TRUE(claimed.lease_expires_at.has_value());
  ASSERT_TRUE(claimed.started_at.has_value());
  EXPECT_GT(*claimed.lease_expires_at, *claimed.started_at);
}

TEST_F(JobQueueTest, KindFilterAndTeacherFirstState) {
  CreateJob("customer");
  const std::string teacher = CreateJob("teacher", JobKind::kTeacher);
  JobRecord claimed = ClaimOne("w1", JobKind::kTeacher);
  EXPECT_EQ(claimed.id, teacher);
  EXPECT_EQ(claimed.state, JobState::kTraining);

  absl::StatusOr<std::optional<JobRecord>> none = queue_->Claim("w1", JobKind::kTeacher);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
}

TEST_F(JobQueueTest, EveryTransitionWritesOneEvent) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  for (JobState to : {JobState::kTraining, JobState::kEvaluating, JobState::kExporting,
                      JobState::kSucceeded}) {
    SCOPED_TRACE(JobStateName(to));
    absl::StatusOr<JobRecord> moved = jobs_->TransitionAsWorker(id, "w1", {to, "step done"});
    ASSERT_TRUE(moved.ok()) << moved.status();
    EXPECT_EQ(moved->state, to);
  }

  // An illegal move changes nothing and writes no event.
  absl::StatusOr<JobRecord> illegal =
      jobs_->TransitionAsWorker(id, "w1", {JobState::kTraining, "again"});
  EXPECT_EQ(illegal.status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<store::Page<store::JobEvent>> events = jobs_->ListJobEvents(tenant_, id, {});
  ASSERT_TRUE(events.ok()) << events.status();
  const char* expected_to[] = {"QUEUED", "SCREENING", "TRAINING", "EVALUATING", "EXPORTING",
                               "SUCCEEDED"};
  ASSERT_EQ(events->items.size(), 6u);
  for (size_t i = 0; i < events->items.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events->items[i].sequence, static_cast<int64_t>(i + 1));
    EXPECT_EQ(events->items[i].type, store::kStateChangedEvent);
    EXPECT_THAT(events->items[i].payload_json,
                HasSubstr(std::string("\"to\": \"") + expected_to[i] + "\""));
  }
  JobRecord done = Get(id);
  EXPECT_FALSE(done.lease_owner.has_value());
  EXPECT_TRUE(done.finished_at.has_value());
  EXPECT_EQ(done.progress, 1.0);
}

TEST_F(JobQueueTest, FailedNeedsCodeAndReason) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  absl::StatusOr<JobRecord> bare = jobs_->TransitionAsWorker(id, "w1", {JobState::kFailed, "x"});
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kInvalidArgument);

  store::WorkerTransition failed{JobState::kFailed, "screening failed", "FILTER_UNAVAILABLE",
                                 "filter service timed out 3 times"};
  absl::StatusOr<JobRecord> moved = jobs_->TransitionAsWorker(id, "w1", failed);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->failure_code, "FILTER_UNAVAILABLE");
  EXPECT_EQ(moved->failure_reason, "filter service timed out 3 times");
}

TEST_F(JobQueueTest, HeartbeatRenewsLease) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  for (int i = 0; i < 5; ++i) {
    absl::SleepFor(absl::Milliseconds(300));
    absl::StatusOr<LeaseStatus> lease = queue_->Heartbeat(id, "w1");
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(lease->state, JobState::kScreening);
    EXPECT_FALSE(lease->cancel_requested);
  }
  // 1.5 s after the claim, past the original 1 s lease, nothing has expired.
  EXPECT_EQ(Reap(), 0);
  EXPECT_EQ(Get(id).lease_owner, "w1");
}

TEST_F(JobQueueTest, HeartbeatAfterLeaseLostFails) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  absl::SleepFor(kPastLease);
  ASSERT_EQ(Reap(), 1);

  absl::StatusOr<LeaseStatus> requeued = queue_->Heartbeat(id, "w1");
  EXPECT_EQ(requeued.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(requeued.status().message()),
              HasSubstr("worker w1 no longer holds the lease on job " + id));

  ClaimOne("w2");
  absl::StatusOr<LeaseStatus> taken = queue_->Heartbeat(id, "w1");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(taken.status().message()), HasSubstr("worker w2 holds it now"));
  EXPECT_EQ(queue_->Heartbeat("missing", "w1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobQueueTest, ExpiredLeaseRequeuesThenFails) {
  const std::string id = CreateJob("a", JobKind::kCustomer, /*max_attempts=*/2);
  EXPECT_EQ(ClaimOne("w1").attempt, 1);
  absl::SleepFor(kPastLease);
  ASSERT_EQ(Reap(), 1);
  JobRecord requeued = Get(id);
  EXPECT_EQ(requeued.state, JobState::kQueued);
  EXPECT_FALSE(requeued.lease_owner.has_value());

  JobRecord second = ClaimOne("w2");
  EXPECT_EQ(second.id, id);
  EXPECT_EQ(second.attempt, 2);
  absl::SleepFor(kPastLease);
  ASSERT_EQ(Reap(), 1);

  JobRecord failed = Get(id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.failure_code, kLeaseExpiredFailure);
  EXPECT_THAT(failed.failure_reason.value_or(""), HasSubstr("attempt 2 of 2"));
  EXPECT_THAT(failed.failure_reason.value_or(""), HasSubstr("worker w2"));

  absl::StatusOr<store::Page<store::JobEvent>> events = jobs_->ListJobEvents(tenant_, id, {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 5u);  // created, claim, requeue, claim, fail
  EXPECT_THAT(events->items[2].payload_json, HasSubstr("expired on attempt 1 of 2; requeued"));
}

TEST_F(JobQueueTest, ReleaseRequeuesWithoutUsingAttempt) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  EXPECT_EQ(queue_->Release(id, "w2").status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<JobRecord> released = queue_->Release(id, "w1");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state, JobState::kQueued);
  EXPECT_EQ(released->attempt, 0);
  EXPECT_EQ(ClaimOne("w2").attempt, 1);
}

TEST_F(JobQueueTest, CancelRunningJobThroughWorker) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  absl::StatusOr<JobRecord> cancelling = jobs_->CancelJob(tenant_, id);
  ASSERT_TRUE(cancelling.ok()) << cancelling.status();
  EXPECT_EQ(cancelling->state, JobState::kCancelling);
  EXPECT_TRUE(cancelling->cancel_requested);
  EXPECT_EQ(cancelling->lease_owner, "w1");

  // A second request changes nothing.
  absl::StatusOr<JobRecord> repeated = jobs_->CancelJob(tenant_, id);
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(repeated->last_event_sequence, cancelling->last_event_sequence);

  absl::StatusOr<LeaseStatus> lease = queue_->Heartbeat(id, "w1");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_TRUE(lease->cancel_requested);
  EXPECT_EQ(lease->state, JobState::kCancelling);

  // The worker may not carry on with training once a cancel is requested.
  EXPECT_EQ(jobs_->TransitionAsWorker(id, "w1", {JobState::kTraining, "x"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<JobRecord> cancelled =
      jobs_->TransitionAsWorker(id, "w1", {JobState::kCancelled, "stopped at step 3"});
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_FALSE(cancelled->lease_owner.has_value());

  absl::StatusOr<JobRecord> after = jobs_->CancelJob(tenant_, id);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(after.status().message()), HasSubstr("already CANCELLED"));
}

TEST_F(JobQueueTest, ExpiredLeaseFinishesCancel) {
  const std::string id = CreateJob("a");
  ClaimOne("w1");
  ASSERT_TRUE(jobs_->CancelJob(tenant_, id).ok());
  absl::SleepFor(kPastLease);
  ASSERT_EQ(Reap(), 1);
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
}

TEST_F(JobQueueTest, RegisterWorkerRejectsEmptyId) {
  EXPECT_TRUE(queue_->RegisterWorker("w1", "host-a").ok());
  EXPECT_TRUE(queue_->RegisterWorker("w1", "host-b").ok());
  EXPECT_EQ(queue_->RegisterWorker("", "host").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::jobs
