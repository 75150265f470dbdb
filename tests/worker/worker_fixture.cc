#include "tests/worker/worker_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/artifacts/artifact_store.h"
#include "core/data/alignment_set_builder.h"
#include "core/data/evaluation_set_builders.h"
#include "core/data/jsonl.h"
#include "core/data/prompt_template.h"
#include "core/store/dataset_store.h"
#include "core/store/tenant_store.h"
#include "tests/support/postgres_environment.h"

namespace reftune::worker {

const auto* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new test_support::PostgresEnvironment);

void WorkerFixture::SetUp() {
  const char* data_dir = std::getenv("REFTUNE_DATA_DIR");
  ASSERT_NE(data_dir, nullptr) << "REFTUNE_DATA_DIR is not set; run the suite through ctest";
  data_dir_ = data_dir;

  connection_string_ = test_support::PostgresEnvironment::NewDatabase();
  store::DatabaseOptions options;
  options.connection_string = connection_string_;
  absl::StatusOr<std::unique_ptr<store::Database>> database = store::Database::Open(options);
  ASSERT_TRUE(database.ok()) << database.status();
  database_ = *std::move(database);

  store::TenantStore tenants(database_.get());
  absl::StatusOr<store::Tenant> tenant = tenants.CreateTenant("worker-test", {});
  ASSERT_TRUE(tenant.ok()) << tenant.status();
  tenant_id_ = tenant->id;

  artifact_root_ = std::filesystem::temp_directory_path() /
                   absl::StrCat("reftune-worker-test-", getpid(), "-", ::testing::UnitTest::GetInstance()->random_seed(), "-",
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(artifact_root_);
  absl::StatusOr<artifacts::ArtifactStore> artifacts = artifacts::ArtifactStore::Open(artifact_root_);
  ASSERT_TRUE(artifacts.ok()) << artifacts.status();
  artifacts_ = std::make_unique<artifacts::ArtifactStore>(*std::move(artifacts));

  jobs_ = std::make_unique<store::JobStore>(database_.get());
  jobs::JobQueueOptions queue_options;
  queue_options.lease_duration = absl::Seconds(5);
  queue_ = std::make_unique<jobs::JobQueue>(database_.get(), queue_options);
  worker_jobs_ = std::make_unique<store::WorkerJobStore>(database_.get());
  checkpoints_ = std::make_unique<store::CheckpointStore>(database_.get());
  screening_ = std::make_unique<store::ScreeningStore>(database_.get());
  base_models_ = std::make_unique<store::BaseModelStore>(database_.get());
  teachers_ = std::make_unique<store::TeacherStore>(database_.get());
  models_ = std::make_unique<BaseModelCache>();
  // NOTE: no filter service library exists in this tree yet, so screening runs PromptFilter in
  // this process behind the same PromptScorer interface.
  scorer_ = NewLocalPromptScorer(models_.get(), base_models_.get());

  store::BaseModelRecord model;
  model.name = kTestBaseModel;
  model.format = "llama2c";
  model.path = data_dir_ + "/stories260K/stories260K.bin";
  model.tokenizer_path = data_dir_ + "/stories260K/tok512.bin";
  model.max_seq_len = 512;
  // llama2.c models separate texts with BOS (id 1) and never learned EOS.
  model.end_of_answer_token_id = 1;
  model.prompt_template = data::PromptTemplate::Short().text();
  absl::StatusOr<store::BaseModelRecord> registered = base_models_->Register(model);
  ASSERT_TRUE(registered.ok()) << registered.status();
}

void WorkerFixture::TearDown() { std::filesystem::remove_all(artifact_root_); }

std::string WorkerFixture::AddRawDataset(const std::string& name, const std::string& text) {
  const std::string path = absl::StrCat(artifact_root_, "/", name, "-", ++dataset_counter_, ".jsonl");
  {
    std::ofstream out(path);
    out << text;
  }
  store::DatasetStore datasets(database_.get());
  store::NewDataset dataset;
  dataset.name = name;
  dataset.sha256 = artifacts::Sha256Hex(text);
  dataset.size_bytes = static_cast<int64_t>(text.size());
  dataset.record_count = 1;
  dataset.storage_path = path;
  absl::StatusOr<store::DatasetRecord> created = datasets.CreateDataset(tenant_id_, dataset);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? created->id : "";
}

std::string WorkerFixture::AddDataset(const std::string& name,
                                      const std::vector<data::Record>& records) {
  std::string text;
  for (const data::Record& record : records) {
    text += data::RecordToJson(record).dump();
    text += "\n";
  }
  return AddRawDataset(name, text);
}

std::string WorkerFixture::CreateJob(jobs::JobKind kind, const nlohmann::json& config) {
  store::NewJob job;
  job.kind = kind;
  job.config_json = config.dump();
  job.request_id = absl::StrCat("request-", ++job_counter_);
  absl::StatusOr<store::CreateJobResult> created = jobs_->CreateJob(tenant_id_, job);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? created->job.id : "";
}

WorkerOptions WorkerFixture::DefaultWorkerOptions(int64_t max_jobs) const {
  WorkerOptions options;
  options.worker_id = absl::StrCat("test-worker-", getpid());
  options.heartbeat_interval = absl::Milliseconds(200);
  options.poll_interval = absl::Milliseconds(200);
  options.max_jobs = max_jobs;
  options.stages.progress_every_steps = 1;
  options.stages.eval_max_new_tokens = 16;
  return options;
}

void WorkerFixture::RunWorker(WorkerOptions options, const std::atomic<bool>* shutdown) {
  static const std::atomic<bool> kNever{false};
  WorkerServices services;
  services.jobs = jobs_.get();
  services.queue = queue_.get();
  services.worker_jobs = worker_jobs_.get();
  services.checkpoints = checkpoints_.get();
  services.screening = screening_.get();
  services.base_models = base_models_.get();
  services.teachers = teachers_.get();
  services.artifacts = artifacts_.get();
  services.models = models_.get();
  services.scorer = scorer_.get();
  Worker worker(services, std::move(options), connection_string_,
                shutdown != nullptr ? shutdown : &kNever);
  absl::Status status = worker.Run();
  EXPECT_TRUE(status.ok()) << status;
}

store::JobRecord WorkerFixture::GetJob(const std::string& job_id) {
  absl::StatusOr<store::JobRecord> job = jobs_->GetJobForWorker(job_id);
  EXPECT_TRUE(job.ok()) << job.status();
  return job.ok() ? *job : store::JobRecord();
}

std::vector<store::JobEvent> WorkerFixture::Events(const std::string& job_id) {
  store::PageRequest page;
  page.page_size = 1000;
  absl::StatusOr<store::Page<store::JobEvent>> events =
      jobs_->ListJobEvents(tenant_id_, job_id, page);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? events->items : std::vector<store::JobEvent>();
}

std::string WorkerFixture::TrainAndPromoteTeacher() {
  data::AlignmentSetOptions alignment_options;
  alignment_options.harmful_count = 20;
  alignment_options.harmless_count = 20;
  alignment_options.calibration_harmful_count = 1;
  alignment_options.calibration_harmless_count = 1;
  absl::StatusOr<data::AlignmentSet> alignment =
      data::BuildAlignmentSet(data_dir_, alignment_options);
  EXPECT_TRUE(alignment.ok()) << alignment.status();
  if (!alignment.ok()) return "";

  data::HarmfulEvalOptions eval_options;
  eval_options.beavertails_count = 6;
  eval_options.advbench_count = 0;
  eval_options.malicious_instruct_count = 0;
  absl::StatusOr<std::vector<data::Record>> harmful = data::BuildHarmfulEvalSet(data_dir_, eval_options);
  EXPECT_TRUE(harmful.ok()) << harmful.status();
  if (!harmful.ok()) return "";

  const nlohmann::json config = {
      {"base_model", kTestBaseModel},
      {"alignment_dataset_id", AddDataset("alignment", alignment->train)},
      {"harmful_eval_dataset_id", AddDataset("harmful-eval", *harmful)},
      {"seed", "3"},
      {"settings",
       {{"lora_r", 4}, {"batch_size", 8}, {"epochs", 1}, {"max_seq_len", 96},
        {"max_answer_tokens", 16}, {"feature_update_interval_steps", 2}}}};
  const std::string job_id = CreateJob(jobs::JobKind::kTeacher, config);
  RunWorker(DefaultWorkerOptions(1));

  const store::JobRecord job = GetJob(job_id);
  EXPECT_EQ(job.state, jobs::JobState::kSucceeded) << job.failure_reason.value_or("");
  absl::StatusOr<std::vector<store::TeacherRecord>> teachers = teachers_->List(kTestBaseModel);
  EXPECT_TRUE(teachers.ok()) << teachers.status();
  if (!teachers.ok() || teachers->empty()) return "";
  absl::StatusOr<store::TeacherRecord> promoted = teachers_->Promote(teachers->front().id);
  EXPECT_TRUE(promoted.ok()) << promoted.status();
  return teachers->front().id;
}

nlohmann::json WorkerFixture::FinetuneConfig(const std::string& dataset_id,
                                             const std::string& mode, int epochs) const {
  return {{"dataset_id", dataset_id},
          {"base_model", kTestBaseModel},
          {"safety_mode", mode},
          {"seed", "5"},
          {"hyperparameters",
           {{"lora_r", 4}, {"batch_size", 4}, {"epochs", epochs}, {"max_seq_len", 96},
            {"max_answer_tokens", 8}, {"warmup_steps", 1}, {"checkpoint_interval_steps", 2}}}};
}

}  // namespace reftune::worker
