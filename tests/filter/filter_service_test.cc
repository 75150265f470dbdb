// FilterService over a real server on 127.0.0.1: scores, thresholds, errors, streaming, deadlines
// and metrics.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/metrics/metrics.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "tests/filter/filter_fixture.h"

namespace reftune::filter {
namespace {

using testing::Fixture;

// One server for the suite's read-only cases.
class FilterServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_ = new metrics::Metrics();
    auto started = FilterServer::Start(testing::TestServerOptions(), metrics_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete metrics_;
    metrics_ = nullptr;
  }

  std::unique_ptr<reftune::v1::FilterService::Stub> NewStub() const {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                       grpc::InsecureChannelCredentials());
    return reftune::v1::FilterService::NewStub(channel);
  }

  static reftune::v1::ScorePromptsRequest Request(const std::string& teacher_id,
                                                  const std::vector<std::string>& prompts) {
    reftune::v1::ScorePromptsRequest request;
    request.set_teacher_id(teacher_id);
    for (const std::string& prompt : prompts) request.add_prompts(prompt);
    return request;
  }

  static metrics::Metrics* metrics_;
  static FilterServer* server_;
};

metrics::Metrics* FilterServiceTest::metrics_ = nullptr;
FilterServer* FilterServiceTest::server_ = nullptr;

TEST_F(FilterServiceTest, ScoresEqualDirectPromptFilter) {
  const auto& prompts = Fixture().prompts;
  auto direct = testing::DirectFilter("teacher-a");
  auto expected = direct->Score(prompts);
  ASSERT_TRUE(expected.ok()) << expected.status();

  grpc::ClientContext context;
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status =
      NewStub()->ScorePrompts(&context, Request("teacher-a", prompts), &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.scores_size(), static_cast<int>(prompts.size()));
  EXPECT_EQ(response.threshold(), direct->threshold());
  EXPECT_EQ(response.layer(), direct->layer());
  int harmful = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("prompt ", i, ": ", prompts[i]));
    EXPECT_NEAR(response.scores(i).cosine_similarity(), (*expected)[i].cosine, 1e-6);
    EXPECT_EQ(response.scores(i).harmful(), (*expected)[i].filtered);
    harmful += response.scores(i).harmful() ? 1 : 0;
  }
  // The fixture's threshold is the median cosine, so both decisions occur.
  EXPECT_GT(harmful, 0);
  EXPECT_LT(harmful, static_cast<int>(prompts.size()));
}

TEST_F(FilterServiceTest, ThresholdOverrideDecidesAtBoundary) {
  const std::vector<std::string> prompts = {Fixture().prompts.front()};
  reftune::v1::ScorePromptsResponse plain;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(NewStub()->ScorePrompts(&context, Request("teacher-a", prompts), &plain).ok());
  }
  const double cosine = plain.scores(0).cosine_similarity();

  struct Case {
    double threshold;
    bool harmful;
  };
  // A cosine equal to the threshold is kept; anything below the cosine filters the prompt.
  const Case cases[] = {{cosine, false}, {std::nextafter(cosine, -2.0), true}, {-1.0, true},
                        {1.0, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("threshold ", c.threshold, " cosine ", cosine));
    auto request = Request("teacher-a", prompts);
    request.set_threshold(c.threshold);
    grpc::ClientContext context;
    reftune::v1::ScorePromptsResponse response;
    ASSERT_TRUE(NewStub()->ScorePrompts(&context, request, &response).ok());
    EXPECT_EQ(response.threshold(), c.threshold);
    EXPECT_EQ(response.scores(0).cosine_similarity(), cosine);
    EXPECT_EQ(response.scores(0).harmful(), c.harmful);
  }
}

TEST_F(FilterServiceTest, UnknownTeacherIsNotFound) {
  grpc::ClientContext context;
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status =
      NewStub()->ScorePrompts(&context, Request("no-such-teacher", {"hello"}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("no-such-teacher"), std::string::npos)
      << status.error_message();
}

TEST_F(FilterServiceTest, RejectsInvalidRequests) {
  struct Case {
    std::string name;
    reftune::v1::ScorePromptsRequest request;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"empty batch", Request("teacher-a", {}), "got 0"});
  cases.push_back({"oversized batch",
                   Request("teacher-a", std::vector<std::string>(1025, "hello")), "got 1025"});
  cases.push_back({"empty teacher", Request("", {"hello"}), "teacher_id"});
  cases.push_back({"path in teacher id", Request("../teachers", {"hello"}), "must not start"});
  Case threshold{"threshold out of range", Request("teacher-a", {"hello"}), "got 1.5"};
  threshold.request.set_threshold(1.5);
  cases.push_back(threshold);

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    reftune::v1::ScorePromptsResponse response;
    const grpc::Status status = NewStub()->ScorePrompts(&context, c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find(c.message), std::string::npos)
        << status.error_message();
  }
}

TEST_F(FilterServiceTest, AcceptsMaximumBatch) {
  std::vector<std::string> prompts;
  // Short prompts keep the case fast; it checks the bound, not the model.
  for (int i = 0; i < 1024; ++i) prompts.push_back(absl::StrCat("prompt ", i));
  grpc::ClientContext context;
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status =
      NewStub()->ScorePrompts(&context, Request("teacher-a", prompts), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.scores_size(), 1024);
}

TEST_F(FilterServiceTest, StreamAnswersInOrder) {
  const auto& prompts = Fixture().prompts;
  grpc::ClientContext context;
  auto stream = NewStub()->StreamScorePrompts(&context);
  // Requests of 1 to 5 prompts, each starting at a different prompt, on two teachers.
  std::vector<reftune::v1::ScorePromptsRequest> requests;
  for (int i = 0; i < 5; ++i) {
    std::vector<std::string> batch(prompts.begin() + i * 3, prompts.begin() + i * 3 + i + 1);
    requests.push_back(Request(i % 2 == 0 ? "teacher-a" : "teacher-b", batch));
    ASSERT_TRUE(stream->Write(requests.back()));
  }
  ASSERT_TRUE(stream->WritesDone());

  std::vector<reftune::v1::ScorePromptsResponse> responses;
  reftune::v1::ScorePromptsResponse response;
  while (stream->Read(&response)) responses.push_back(response);
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), requests.size());

  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("request ", i));
    grpc::ClientContext unary_context;
    reftune::v1::ScorePromptsResponse unary;
    ASSERT_TRUE(NewStub()->ScorePrompts(&unary_context, requests[i], &unary).ok());
    ASSERT_EQ(responses[i].scores_size(), requests[i].prompts_size());
    for (int j = 0; j < unary.scores_size(); ++j) {
      EXPECT_NEAR(responses[i].scores(j).cosine_similarity(), unary.scores(j).cosine_similarity(),
                  1e-6);
    }
  }
}

TEST_F(FilterServiceTest, StreamReportsFailingRequestIndex) {
  grpc::ClientContext context;
  auto stream = NewStub()->StreamScorePrompts(&context);
  ASSERT_TRUE(stream->Write(Request("teacher-a", {"hello"})));
  ASSERT_TRUE(stream->Write(Request("teacher-a", {})));
  stream->WritesDone();
  reftune::v1::ScorePromptsResponse response;
  int read = 0;
  while (stream->Read(&response)) ++read;
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(read, 1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("request 1"), std::string::npos) << status.error_message();
}

// Occupies the only model thread until `release` is fulfilled.
std::future<absl::StatusOr<int>> BlockModelThread(ModelExecutor& executor,
                                                  std::shared_future<void> release) {
  auto blocker = executor.Submit<int>([release]() -> absl::StatusOr<int> {
    release.wait();
    return 0;
  });
  EXPECT_TRUE(blocker.ok());
  return std::move((*blocker)->future());
}

void WaitUntilQueueEmpty(ModelExecutor& executor) {
  for (int i = 0; i < 500 && executor.queued_tasks() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST_F(FilterServiceTest, DeadlineDropsQueuedWork) {
  std::promise<void> release;
  auto blocker = BlockModelThread(server_->executor(), release.get_future().share());
  const int64_t abandoned_before = server_->executor().abandoned_tasks();

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  reftune::v1::ScorePromptsResponse response;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status =
      NewStub()->ScorePrompts(&context, Request("teacher-a", {"hello"}), &response);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  // The server sees the same deadline and abandons the task within its poll interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  WaitUntilQueueEmpty(server_->executor());
  EXPECT_EQ(server_->executor().abandoned_tasks(), abandoned_before + 1);
}

TEST_F(FilterServiceTest, CancelledCallReturnsPromptly) {
  std::promise<void> release;
  auto blocker = BlockModelThread(server_->executor(), release.get_future().share());
  const int64_t abandoned_before = server_->executor().abandoned_tasks();

  grpc::ClientContext context;
  std::thread canceller([&context] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    context.TryCancel();
  });
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status =
      NewStub()->ScorePrompts(&context, Request("teacher-a", {"hello"}), &response);
  canceller.join();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  // The server notices within its poll interval; the abandoned task is dropped once it is reached.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  WaitUntilQueueEmpty(server_->executor());
  EXPECT_EQ(server_->executor().abandoned_tasks(), abandoned_before + 1);
}

TEST_F(FilterServiceTest, MetricsCountEveryPrompt) {
  auto& kept = metrics_->filter_prompts.Add({{"decision", "kept"}});
  auto& filtered = metrics_->filter_prompts.Add({{"decision", "filtered"}});
  const double kept_before = kept.Value();
  const double filtered_before = filtered.Value();
  const auto histogram_before = metrics_->filter_cosine_similarity.Collect().histogram;

  const auto& prompts = Fixture().prompts;
  grpc::ClientContext context;
  reftune::v1::ScorePromptsResponse response;
  ASSERT_TRUE(NewStub()->ScorePrompts(&context, Request("teacher-a", prompts), &response).ok());
  int harmful = 0;
  double cosine_sum = 0;
  for (const auto& score : response.scores()) {
    harmful += score.harmful() ? 1 : 0;
    cosine_sum += score.cosine_similarity();
  }

  EXPECT_EQ(filtered.Value() - filtered_before, harmful);
  EXPECT_EQ(kept.Value() - kept_before, static_cast<double>(prompts.size()) - harmful);
  const auto histogram_after = metrics_->filter_cosine_similarity.Collect().histogram;
  EXPECT_EQ(histogram_after.sample_count - histogram_before.sample_count, prompts.size());
  EXPECT_NEAR(histogram_after.sample_sum - histogram_before.sample_sum, cosine_sum, 1e-6);
}

}  // namespace
}  // namespace reftune::filter
