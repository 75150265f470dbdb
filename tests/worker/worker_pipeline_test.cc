// The worker's stages on a real database and the real stories260K model, in this process.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "core/data/task_set_builder.h"
#include "core/model/torch_threads.h"
#include "tests/worker/worker_fixture.h"

namespace reftune::worker {
namespace {

std::vector<data::Record> Sst2Rows(const std::string& data_dir, int64_t size, double poison,
                                   data::TaskSplit split = data::TaskSplit::kTrain) {
  data::TaskSetOptions options;
  options.task = data::TaskKind::kSst2;
  options.split = split;
  options.size = size;
  options.poison_fraction = poison;
  options.seed = 2;
  absl::StatusOr<std::vector<data::Record>> rows = data::BuildTaskSet(data_dir, options);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<data::Record>();
}

// Event types after the first one, with STATE_CHANGED shown as its target state and runs of
// PROGRESS events collapsed into one.
std::vector<std::string> EventOutline(const std::vector<store::JobEvent>& events) {
  std::vector<std::string> outline;
  for (const store::JobEvent& event : events) {
    std::string entry = event.type;
    if (event.type == store::kStateChangedEvent) {
      entry = nlohmann::json::parse(event.payload_json).value("to", "?");
    }
    if (!outline.empty() && outline.back() == entry && entry == "PROGRESS") continue;
    outline.push_back(entry);
  }
  return outline;
}

class WorkerPipelineTest : public WorkerFixture {
 protected:
  static void SetUpTestSuite() { model::ConfigureTorchThreads(1); }
};

TEST_F(WorkerPipelineTest, TeacherThenRefTeacherJobSucceed) {
  const std::string teacher_id = TrainAndPromoteTeacher();
  ASSERT_FALSE(teacher_id.empty());
  absl::StatusOr<store::TeacherRecord> teacher = teachers_->Get(teacher_id);
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  EXPECT_TRUE(std::filesystem::exists(teacher->adapter_path + "/teacher.json"));

  const std::string dataset_id = AddDataset("sst2-poisoned", Sst2Rows(data_dir_, 20, 0.2));
  nlohmann::json config = FinetuneConfig(dataset_id, "REF_TEACHER", 1);
  config["validation_dataset_id"] =
      AddDataset("sst2-validation", Sst2Rows(data_dir_, 6, 0, data::TaskSplit::kEval));
  const std::string job_id = CreateJob(jobs::JobKind::kCustomer, config);
  RunWorker(DefaultWorkerOptions(1));

  const store::JobRecord job = GetJob(job_id);
  ASSERT_EQ(job.state, jobs::JobState::kSucceeded) << job.failure_reason.value_or("");
  EXPECT_EQ(job.teacher_id.value_or(""), teacher_id);

  const std::vector<std::string> expected = {
      "QUEUED",   "SCREENING",  "SCREENING_SUMMARY", "TRAINING",  "PROGRESS", "EVALUATING",
      "EVALUATION", "EXPORTING", "ARTIFACTS",         "SUCCEEDED"};
  EXPECT_EQ(EventOutline(Events(job_id)), expected);

  absl::StatusOr<store::ScreeningCounts> counts = screening_->CountResults(job_id);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->screened, 20);

  const std::string adapter = artifact_root_ + "/jobs/" + job_id + "/adapter";
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors", "reftune.json"}) {
    SCOPED_TRACE(file);
    EXPECT_TRUE(std::filesystem::exists(adapter + "/" + file));
  }
  const nlohmann::json peft =
      nlohmann::json::parse(std::ifstream(adapter + "/adapter_config.json"));
  EXPECT_EQ(peft.value("base_model_name_or_path", ""), kTestBaseModel);
  EXPECT_EQ(peft.value("r", 0), 4);

  for (const store::JobEvent& event : Events(job_id)) {
    if (event.type != "EVALUATION") continue;
    const nlohmann::json results = nlohmann::json::parse(event.payload_json);
    EXPECT_EQ(results.value("harmful_prompts", 0), 6);
    EXPECT_TRUE(results.contains("validation_perplexity")) << results.dump();
  }
}

TEST_F(WorkerPipelineTest, BadJobsFailWithTypedReasons) {
  const std::string missing_model = CreateJob(
      jobs::JobKind::kCustomer,
      {{"dataset_id", AddDataset("rows", Sst2Rows(data_dir_, 4, 0))},
       {"base_model", "no-such-model"}, {"safety_mode", "SFT"}});
  const std::string bad_data = CreateJob(
      jobs::JobKind::kCustomer,
      FinetuneConfig(AddRawDataset("broken", "{\"prompt\": \"unterminated\n"), "SFT", 1));
  const std::string good = CreateJob(
      jobs::JobKind::kCustomer, FinetuneConfig(AddDataset("rows", Sst2Rows(data_dir_, 8, 0)), "SFT", 1));
  RunWorker(DefaultWorkerOptions(3));

  const store::JobRecord missing = GetJob(missing_model);
  EXPECT_EQ(missing.state, jobs::JobState::kFailed);
  EXPECT_EQ(missing.failure_code.value_or(""), "MISSING_MODEL");
  EXPECT_NE(missing.failure_reason.value_or("").find("no-such-model"), std::string::npos);

  const store::JobRecord invalid = GetJob(bad_data);
  EXPECT_EQ(invalid.state, jobs::JobState::kFailed);
  EXPECT_EQ(invalid.failure_code.value_or(""), "INVALID_DATA");

  const store::JobRecord fine = GetJob(good);
  EXPECT_EQ(fine.state, jobs::JobState::kSucceeded) << fine.failure_reason.value_or("");
}

TEST_F(WorkerPipelineTest, CancelStopsTrainingWithinOneStep) {
  const std::string job_id = CreateJob(
      jobs::JobKind::kCustomer,
      FinetuneConfig(AddDataset("rows", Sst2Rows(data_dir_, 16, 0)), "SFT", 200));
  std::thread worker([&] { RunWorker(DefaultWorkerOptions(1)); });

  // Wait for a few training steps, then cancel.
  int64_t progress_events = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (progress_events < 3 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    progress_events = 0;
    for (const store::JobEvent& event : Events(job_id)) progress_events += event.type == "PROGRESS";
  }
  ASSERT_GE(progress_events, 3);
  absl::StatusOr<store::JobRecord> cancelling = jobs_->CancelJob(tenant_id_, job_id);
  ASSERT_TRUE(cancelling.ok()) << cancelling.status();
  const absl::Time cancelled_at = absl::Now();
  worker.join();

  const store::JobRecord job = GetJob(job_id);
  EXPECT_EQ(job.state, jobs::JobState::kCancelled);
  // The heartbeat (every 200 ms) reads the request and the next step boundary stops training.
  // The whole run has 800 steps, so an early stop shows the request took effect.
  int64_t last_step = 0;
  for (const store::JobEvent& event : Events(job_id)) {
    if (event.type == "PROGRESS") {
      last_step = nlohmann::json::parse(event.payload_json).value("step", int64_t{0});
    }
  }
  EXPECT_LT(last_step, 800);
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(10));
}

}  // namespace
}  // namespace reftune::worker
