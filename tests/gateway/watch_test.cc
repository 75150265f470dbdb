// WatchJob and DownloadArtifact against jobs that a simulated worker moves with the real queue.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/jobs/job_queue.h"
#include "core/store/job_store.h"
#include "tests/gateway/gateway_fixture.h"

namespace reftune::gateway {
namespace {

using ::testing::ElementsAre;

class WatchTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    RegisterStoriesModel();
    tenant_ = CreateTenant("acme");
    v1::Dataset dataset;
    ASSERT_TRUE(Upload(tenant_.secret, "train", ValidDataset(4), 100, &dataset).ok());
    ASSERT_TRUE(customer_->CreateJob(CallWith(tenant_.secret).get(),
                                     SftJob(dataset.id(), "r1"), &job_)
                    .ok());
  }

  // Claims the job and moves it through every state to SUCCEEDED, pausing between steps so the
  // watcher receives the events while it waits.
  void RunWorker() {
    jobs::JobQueue queue(&gateway_->database(), jobs::JobQueueOptions{});
    store::JobStore job_store(&gateway_->database());
    auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
    pause();
    absl::StatusOr<std::optional<store::JobRecord>> claimed = queue.Claim("worker-1");
    ASSERT_TRUE(claimed.ok()) << claimed.status();
    ASSERT_TRUE(claimed->has_value());
    for (jobs::JobState state : {jobs::JobState::kTraining, jobs::JobState::kEvaluating}) {
      pause();
      if (state == jobs::JobState::kEvaluating) {
        ASSERT_TRUE(job_store
                        .RecordProgress(job_.id(), "worker-1", 0.5,
                                        R"({"step": 5, "total_steps": 10, "loss": 1.25})")
                        .ok());
      }
      store::WorkerTransition transition;
      transition.to = state;
      ASSERT_TRUE(job_store.TransitionAsWorker(job_.id(), "worker-1", transition).ok());
    }
    pause();
    store::WorkerTransition exporting;
    exporting.to = jobs::JobState::kExporting;
    ASSERT_TRUE(job_store.TransitionAsWorker(job_.id(), "worker-1", exporting).ok());
    store::WorkerTransition succeeded;
    succeeded.to = jobs::JobState::kSucceeded;
    ASSERT_TRUE(job_store.TransitionAsWorker(job_.id(), "worker-1", succeeded).ok());
  }

  TestTenant tenant_;
  v1::Job job_;
};

TEST_F(WatchTest, WatchFollowsJobToTerminalState) {
  std::thread worker([this] { RunWorker(); });
  auto context = CallWith(tenant_.secret);
  v1::WatchJobRequest request;
  request.set_job_id(job_.id());
  auto reader = customer_->WatchJob(context.get(), request);

  std::vector<v1::JobState> states;
  std::vector<int64_t> sequences;
  int progress_events = 0;
  v1::JobEvent event;
  while (reader->Read(&event)) {
    sequences.push_back(event.sequence());
    if (event.has_state_change()) states.push_back(event.state_change().to());
    if (event.has_progress()) {
      ++progress_events;
      EXPECT_EQ(event.progress().step(), 5);
      EXPECT_EQ(event.progress().loss(), 1.25);
    }
  }
  const grpc::Status status = reader->Finish();
  worker.join();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(states, ElementsAre(v1::JOB_STATE_QUEUED, v1::JOB_STATE_SCREENING,
                                  v1::JOB_STATE_TRAINING, v1::JOB_STATE_EVALUATING,
                                  v1::JOB_STATE_EXPORTING, v1::JOB_STATE_SUCCEEDED));
  EXPECT_EQ(progress_events, 1);
  for (size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], static_cast<int64_t>(i + 1));

  // A later watch from the middle of the log gets only the rest and ends at once.
  auto replay_context = CallWith(tenant_.secret);
  request.set_after_sequence(5);
  auto replay = customer_->WatchJob(replay_context.get(), request);
  std::vector<int64_t> replayed;
  while (replay->Read(&event)) replayed.push_back(event.sequence());
  EXPECT_TRUE(replay->Finish().ok());
  EXPECT_THAT(replayed, ElementsAre(6, 7));
}

TEST_F(WatchTest, WatchEndsPromptlyAtDeadline) {
  auto context = CallWith(tenant_.secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::WatchJobRequest request;
  request.set_job_id(job_.id());
  const auto start = std::chrono::steady_clock::now();
  auto reader = customer_->WatchJob(context.get(), request);
  v1::JobEvent event;
  int events = 0;
  while (reader->Read(&event)) ++events;
  const grpc::Status status = reader->Finish();
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(events, 1);
  // The poll interval is 5 s, so ending within 2 s shows the wait checks the deadline itself.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(WatchTest, DownloadStreamsAdapterFiles) {
  v1::DownloadArtifactRequest request;
  request.set_job_id(job_.id());
  {
    auto context = CallWith(tenant_.secret);
    auto reader = customer_->DownloadArtifact(context.get(), request);
    v1::ArtifactChunk chunk;
    while (reader->Read(&chunk)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }

  RunWorker();
  const std::string folder = artifact_root_ + "/jobs/" + job_.id() + "/adapter";
  std::filesystem::create_directories(folder);
  std::string weights(600 * 1024, '\0');
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<char>(i * 7 % 251);
  std::ofstream(folder + "/adapter_model.safetensors", std::ios::binary) << weights;
  const std::string config = R"({"r": 4, "lora_alpha": 32})";
  std::ofstream(folder + "/adapter_config.json") << config;

  auto context = CallWith(tenant_.secret);
  auto reader = customer_->DownloadArtifact(context.get(), request);
  std::map<std::string, std::string> files;
  std::map<std::string, int> chunks;
  v1::ArtifactChunk chunk;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.offset(), static_cast<int64_t>(files[chunk.file_name()].size()));
    files[chunk.file_name()] += chunk.data();
    ++chunks[chunk.file_name()];
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(files["adapter_config.json"], config);
  EXPECT_EQ(files["adapter_model.safetensors"], weights);
  // 600 KiB in 256 KiB chunks.
  EXPECT_EQ(chunks["adapter_model.safetensors"], 3);

  v1::GetJobRequest get;
  get.set_job_id(job_.id());
  v1::Job job;
  ASSERT_TRUE(customer_->GetJob(CallWith(tenant_.secret).get(), get, &job).ok());
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  ASSERT_EQ(job.artifacts_size(), 2);
  EXPECT_EQ(job.artifacts(1).name(), "adapter_model.safetensors");
  EXPECT_EQ(job.artifacts(1).size_bytes(), static_cast<int64_t>(weights.size()));
  EXPECT_EQ(job.progress().total_steps(), 10);
}

}  // namespace
}  // namespace reftune::gateway
