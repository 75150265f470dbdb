// Job calls through the real gateway: validation, idempotency, quotas, listing, cancellation,
// token lengths and the teacher requirement.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/gateway/gateway_fixture.h"

namespace reftune::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class JobTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    RegisterStoriesModel();
    tenant_ = CreateTenant("acme");
    ASSERT_TRUE(Upload(tenant_.secret, "train", ValidDataset(8), 100, &dataset_).ok());
  }

  grpc::Status Create(const v1::CreateJobRequest& request, v1::Job* job) {
    return customer_->CreateJob(CallWith(tenant_.secret).get(), request, job);
  }

  TestTenant tenant_;
  v1::Dataset dataset_;
};

TEST_F(JobTest, CreateAppliesDefaults) {
  v1::Job job;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "r1"), &job).ok());

  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.kind(), v1::JOB_KIND_FINETUNE);
  EXPECT_EQ(job.hyperparameters().lora_r(), 4);
  EXPECT_EQ(job.hyperparameters().lora_alpha(), 32);
  EXPECT_EQ(job.hyperparameters().epochs(), 5);
  EXPECT_EQ(job.hyperparameters().max_answer_tokens(), 64);
  EXPECT_EQ(job.hyperparameters().target_modules_size(), 7);
  EXPECT_EQ(job.hyperparameters().overlong_records(), v1::OVERLONG_RECORDS_REJECT);
  EXPECT_EQ(job.seed(), 1u);
  EXPECT_EQ(job.wall_time_limit_seconds(), 24 * 3600);
  EXPECT_EQ(job.safety_mode(), v1::SAFETY_MODE_SFT);
}

TEST_F(JobTest, CreateListsEveryBadField) {
  v1::CreateJobRequest request = SftJob(dataset_.id(), "r1");
  v1::Hyperparameters* hyperparameters = request.mutable_hyperparameters();
  hyperparameters->set_lora_r(0);
  hyperparameters->set_learning_rate(2.0);
  hyperparameters->set_lora_dropout(1.0);
  hyperparameters->set_max_seq_len(4096);
  hyperparameters->add_target_modules("attention");
  request.set_filter_threshold(3);
  request.set_suffix("Bad Suffix");
  v1::Job job;
  const grpc::Status status = Create(request, &job);

  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(status),
              UnorderedElementsAre("hyperparameters.lora_r", "hyperparameters.learning_rate",
                                   "hyperparameters.lora_dropout", "hyperparameters.max_seq_len",
                                   "hyperparameters.target_modules", "filter_threshold",
                                   "suffix"));
  EXPECT_THAT(status.error_message(), HasSubstr("lora_r must be in [1, 256], got 0"));
  EXPECT_THAT(status.error_message(), HasSubstr("max_seq_len must be in [16, 512], got 4096"));
}

TEST_F(JobTest, CreateRejectsUnknownBaseModel) {
  v1::CreateJobRequest request = SftJob(dataset_.id(), "r1");
  request.set_base_model("no-such-model");
  v1::Job job;
  const grpc::Status status = Create(request, &job);

  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(status), ElementsAre("base_model"));
}

TEST_F(JobTest, ReplayReturnsOriginalJob) {
  v1::Job first;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "same"), &first).ok());
  v1::Job replay;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "same"), &replay).ok());
  EXPECT_EQ(replay.id(), first.id());

  v1::CreateJobRequest different = SftJob(dataset_.id(), "same");
  different.mutable_hyperparameters()->set_epochs(2);
  v1::Job conflict;
  const grpc::Status status = Create(different, &conflict);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(first.id()));
}

TEST_F(JobTest, ConcurrentJobLimitIsResourceExhausted) {
  v1::SetTenantLimitsRequest limits;
  limits.set_tenant_id(tenant_.id);
  limits.set_max_concurrent_jobs(2);
  v1::Tenant updated;
  ASSERT_TRUE(operator_->SetTenantLimits(CallWith(operator_secret_).get(), limits, &updated).ok());

  v1::Job first;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "a"), &first).ok());
  v1::Job job;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "b"), &job).ok());
  const grpc::Status status = Create(SftJob(dataset_.id(), "c"), &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A cancelled job no longer counts.
  v1::CancelJobRequest cancel;
  cancel.set_job_id(first.id());
  v1::Job cancelled;
  ASSERT_TRUE(customer_->CancelJob(CallWith(tenant_.secret).get(), cancel, &cancelled).ok());
  EXPECT_TRUE(Create(SftJob(dataset_.id(), "c"), &job).ok());
}

TEST_F(JobTest, CancelQueuedJobEndsIt) {
  v1::Job job;
  ASSERT_TRUE(Create(SftJob(dataset_.id(), "r1"), &job).ok());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.id());
  v1::Job cancelled;
  ASSERT_TRUE(customer_->CancelJob(CallWith(tenant_.secret).get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);

  const grpc::Status again = customer_->CancelJob(CallWith(tenant_.secret).get(), cancel, &cancelled);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListJobEventsRequest events_request;
  events_request.set_job_id(job.id());
  v1::ListJobEventsResponse events;
  ASSERT_TRUE(
      customer_->ListJobEvents(CallWith(tenant_.secret).get(), events_request, &events).ok());
  ASSERT_EQ(events.events_size(), 2);
  EXPECT_EQ(events.events(1).state_change().from(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(events.events(1).state_change().to(), v1::JOB_STATE_CANCELLED);
}

TEST_F(JobTest, ListJobsPagesThroughAll) {
  for (int i = 0; i < 3; ++i) {
    v1::Job job;
    ASSERT_TRUE(Create(SftJob(dataset_.id(), absl::StrCat("r", i)), &job).ok());
  }
  std::vector<std::string> request_ids;
  v1::ListJobsRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    v1::ListJobsResponse response;
    ASSERT_TRUE(customer_->ListJobs(CallWith(tenant_.secret).get(), request, &response).ok());
    for (const v1::Job& job : response.jobs()) request_ids.push_back(job.request_id());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);

  EXPECT_EQ(pages, 2);
  EXPECT_THAT(request_ids, ElementsAre("r2", "r1", "r0"));
}

TEST_F(JobTest, ListJobsFiltersStateBeforePaging) {
  // Newest first: r3 and r1 stay queued, r2 and r0 are cancelled.
  for (int i = 0; i < 4; ++i) {
    v1::Job job;
    ASSERT_TRUE(Create(SftJob(dataset_.id(), absl::StrCat("r", i)), &job).ok());
    if (i % 2 == 0) {
      v1::CancelJobRequest cancel;
      cancel.set_job_id(job.id());
      v1::Job cancelled;
      ASSERT_TRUE(customer_->CancelJob(CallWith(tenant_.secret).get(), cancel, &cancelled).ok());
    }
  }
  v1::ListJobsRequest request;
  request.set_state(v1::JOB_STATE_QUEUED);
  request.set_page_size(2);
  v1::ListJobsResponse response;
  ASSERT_TRUE(customer_->ListJobs(CallWith(tenant_.secret).get(), request, &response).ok());

  ASSERT_EQ(response.jobs_size(), 2);
  EXPECT_EQ(response.jobs(0).request_id(), "r3");
  EXPECT_EQ(response.jobs(1).request_id(), "r1");
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(JobTest, RefTeacherNeedsActiveTeacher) {
  v1::CreateJobRequest request = SftJob(dataset_.id(), "r1");
  request.set_safety_mode(v1::SAFETY_MODE_REF_TEACHER);
  v1::Job job;
  const grpc::Status status = Create(request, &job);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no active teacher"));

  store::TeacherRecord teacher;
  teacher.base_model = "stories260K";
  teacher.adapter_path = "/teachers/t1";
  teacher.layer = 2;
  teacher.refusal_feature_path = "/teachers/t1/feature.safetensors";
  teacher.threshold = 0.3;
  absl::StatusOr<store::TeacherRecord> created = gateway_->context().teachers.Create(teacher);
  ASSERT_TRUE(created.ok()) << created.status();
  v1::PromoteTeacherRequest promote;
  promote.set_teacher_id(created->id);
  v1::Teacher promoted;
  ASSERT_TRUE(operator_->PromoteTeacher(CallWith(operator_secret_).get(), promote, &promoted).ok());
  EXPECT_TRUE(promoted.active());

  ASSERT_TRUE(Create(request, &job).ok());
  EXPECT_EQ(job.teacher_id(), created->id);
}

TEST_F(JobTest, OverlongRecordsRejectedOrSkipped) {
  const std::string long_prompt(1500, 'x');
  const std::string content = ValidDataset(2) + "{\"prompt\": \"" + long_prompt +
                              "\", \"response\": \"ok\"}\n" + ValidDataset(1);
  v1::Dataset dataset;
  ASSERT_TRUE(Upload(tenant_.secret, "long", content, 4096, &dataset).ok());

  v1::Job job;
  grpc::Status status = Create(SftJob(dataset.id(), "reject"), &job);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(ViolationFields(status), ElementsAre("line 3: (record)"));

  v1::CreateJobRequest skip = SftJob(dataset.id(), "skip");
  skip.mutable_hyperparameters()->set_overlong_records(v1::OVERLONG_RECORDS_SKIP);
  status = Create(skip, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<store::JobRecord> stored = gateway_->context().jobs.GetJobForWorker(job.id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(nlohmann::json::parse(stored->config_json)["skipped_lines"],
            nlohmann::json::array({3}));
}

}  // namespace
}  // namespace reftune::gateway
