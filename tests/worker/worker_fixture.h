// A reftune database, artifact root and stories260K base model for worker tests, with helpers
// that register datasets, create jobs and run a worker in this process.
#ifndef REFTUNE_TESTS_WORKER_WORKER_FIXTURE_H_
#define REFTUNE_TESTS_WORKER_WORKER_FIXTURE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/artifacts/artifact_store.h"
#include "core/data/record.h"
#include "core/jobs/job_queue.h"
#include "core/store/base_model_store.h"
#include "core/store/checkpoint_store.h"
#include "core/store/database.h"
#include "core/store/job_store.h"
#include "core/store/screening_store.h"
#include "core/store/teacher_store.h"
#include "core/store/worker_job_store.h"
#include "nlohmann/json.hpp"
#include "services/worker/base_model_cache.h"
#include "services/worker/prompt_scorer.h"
#include "services/worker/worker.h"

namespace reftune::worker {

class WorkerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes `records` as JSONL under the artifact root and adds a dataset row of the tenant.
  std::string AddDataset(const std::string& name, const std::vector<data::Record>& records);
  // Adds a dataset row whose file contains `text` unchanged.
  std::string AddRawDataset(const std::string& name, const std::string& text);
  std::string CreateJob(jobs::JobKind kind, const nlohmann::json& config);

  WorkerOptions DefaultWorkerOptions(int64_t max_jobs) const;
  // Runs a worker in this process until it ran `max_jobs` jobs or `shutdown` is set.
  void RunWorker(WorkerOptions options, const std::atomic<bool>* shutdown = nullptr);

  store::JobRecord GetJob(const std::string& job_id);
  std::vector<store::JobEvent> Events(const std::string& job_id);

  // Trains a teacher through a TEACHER job and promotes it; returns the teacher id.
  std::string TrainAndPromoteTeacher();
  // A customer job config for stories260K with small, fast hyperparameters.
  nlohmann::json FinetuneConfig(const std::string& dataset_id, const std::string& mode,
                                int epochs) const;

  std::string data_dir_;
  std::string connection_string_;
  std::string tenant_id_;
  std::string artifact_root_;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<artifacts::ArtifactStore> artifacts_;
  std::unique_ptr<store::JobStore> jobs_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<store::WorkerJobStore> worker_jobs_;
  std::unique_ptr<store::CheckpointStore> checkpoints_;
  std::unique_ptr<store::ScreeningStore> screening_;
  std::unique_ptr<store::BaseModelStore> base_models_;
  std::unique_ptr<store::TeacherStore> teachers_;
  std::unique_ptr<BaseModelCache> models_;
  std::unique_ptr<PromptScorer> scorer_;
  int dataset_counter_ = 0;
  int job_counter_ = 0;
};

// Name of the base model every worker test registers.
inline constexpr char kTestBaseModel[] = "stories260K";

}  // namespace reftune::worker

#endif  // REFTUNE_TESTS_WORKER_WORKER_FIXTURE_H_
