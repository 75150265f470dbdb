// The reftune-worker binary as a subprocess: a kill -9 during TRAINING and a SIGTERM, each
// followed by another worker that finishes the job from the last checkpoint.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/data/task_set_builder.h"
#include "core/model/adapter_io.h"
#include "core/model/checkpoint.h"
#include "core/model/torch_threads.h"
#include "tests/worker/worker_fixture.h"

namespace reftune::worker {
namespace {

class WorkerProcessTest : public WorkerFixture {
 protected:
  static void SetUpTestSuite() { model::ConfigureTorchThreads(1); }

  // Starts reftune-worker for one job with one intra-op thread, as the in-process runs use.
  pid_t StartWorkerProcess(const std::string& worker_id) {
    const std::vector<std::string> args = {
        REFTUNE_WORKER_BINARY, "--database", connection_string_, "--artifact-root",
        artifact_root_, "--worker-id", worker_id, "--lease-seconds", "2",
        "--heartbeat-seconds", "0.3", "--poll-seconds", "0.3", "--intra-op-threads", "1",
        "--max-jobs", "1"};
    const pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  }

  // Waits until the job has a checkpoint row; false after 120 seconds.
  bool WaitForCheckpoint(const std::string& job_id) {
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (absl::Now() < give_up) {
      absl::StatusOr<std::optional<store::CheckpointRecord>> latest =
          checkpoints_->LatestCheckpoint(job_id);
      if (latest.ok() && latest->has_value()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::string SftJob(const std::string& request_suffix) {
    data::TaskSetOptions options;
    options.size = 24;
    options.seed = 4;
    absl::StatusOr<std::vector<data::Record>> rows = data::BuildTaskSet(data_dir_, options);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return CreateJob(jobs::JobKind::kCustomer,
                     FinetuneConfig(AddDataset("rows-" + request_suffix, *rows), "SFT", 30));
  }

  std::map<std::string, torch::Tensor> AdapterOf(const std::string& job_id) {
    absl::StatusOr<model::Checkpoint> checkpoint = model::LoadLlama2cCheckpoint(
        data_dir_ + "/stories260K/stories260K.bin", "");
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    absl::StatusOr<model::AdapterFiles> adapter = model::LoadAdapter(
        artifact_root_ + "/jobs/" + job_id + "/adapter", checkpoint->config);
    EXPECT_TRUE(adapter.ok()) << adapter.status();
    return adapter.ok() ? adapter->tensors : std::map<std::string, torch::Tensor>();
  }

  int64_t ResumeStep(const std::string& job_id) {
    for (const store::JobEvent& event : Events(job_id)) {
      const nlohmann::json payload = nlohmann::json::parse(event.payload_json);
      if (event.type == "MESSAGE" && payload.contains("resume_step")) {
        return payload["resume_step"].get<int64_t>();
      }
    }
    return -1;
  }
};

double MaxDifference(const std::map<std::string, torch::Tensor>& a,
                     const std::map<std::string, torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [name, tensor] : a) {
    auto it = b.find(name);
    if (it == b.end()) return 1e9;
    worst = std::max(worst, (tensor - it->second).abs().max().item<double>());
  }
  return worst;
}

TEST_F(WorkerProcessTest, KilledWorkerJobResumesSameAdapter) {
  // Reference: the same job, uninterrupted.
  const std::string reference = SftJob("reference");
  RunWorker(DefaultWorkerOptions(1));
  ASSERT_EQ(GetJob(reference).state, jobs::JobState::kSucceeded);

  const std::string job_id = SftJob("crashed");
  const pid_t first = StartWorkerProcess("crashing-worker");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(WaitForCheckpoint(job_id));
  ASSERT_EQ(kill(first, SIGKILL), 0);
  int status = 0;
  waitpid(first, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  ASSERT_NE(GetJob(job_id).state, jobs::JobState::kSucceeded)
      << "the job finished before the kill; make it longer";

  // The lease (2 s) expires; the next worker reaps it and resumes.
  absl::SleepFor(absl::Seconds(2.5));
  const pid_t second = StartWorkerProcess("second-worker");
  waitpid(second, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const store::JobRecord job = GetJob(job_id);
  ASSERT_EQ(job.state, jobs::JobState::kSucceeded) << job.failure_reason.value_or("");
  EXPECT_EQ(job.attempt, 2);
  EXPECT_GT(ResumeStep(job_id), 0);
  EXPECT_LE(MaxDifference(AdapterOf(reference), AdapterOf(job_id)), 1e-5);
}

TEST_F(WorkerProcessTest, SigtermCheckpointsReleasesAndExits) {
  const std::string job_id = SftJob("terminated");
  const pid_t pid = StartWorkerProcess("terminated-worker");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForCheckpoint(job_id));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const store::JobRecord released = GetJob(job_id);
  ASSERT_EQ(released.state, jobs::JobState::kQueued);
  EXPECT_FALSE(released.lease_owner.has_value());
  absl::StatusOr<std::optional<store::CheckpointRecord>> latest =
      checkpoints_->LatestCheckpoint(job_id);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());

  RunWorker(DefaultWorkerOptions(1));
  const store::JobRecord job = GetJob(job_id);
  EXPECT_EQ(job.state, jobs::JobState::kSucceeded) << job.failure_reason.value_or("");
  EXPECT_EQ(ResumeStep(job_id), (*latest)->step);
}

}  // namespace
}  // namespace reftune::worker
