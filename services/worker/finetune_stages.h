// Pieces of the finetuning pipeline shared between its files: what the setup loaded, and the
// EVALUATING and EXPORTING stages.
#ifndef REFTUNE_SERVICES_WORKER_FINETUNE_STAGES_H_
#define REFTUNE_SERVICES_WORKER_FINETUNE_STAGES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/data/record.h"
#include "core/method/finetune_mode.h"
#include "core/method/teacher_artifact.h"
#include "core/model/lora_config.h"
#include "core/store/teacher_store.h"
#include "services/worker/base_model_cache.h"
#include "services/worker/job_config.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

// Inputs of the finetuning stages, loaded once per run.
struct FinetuneContext {
  FinetuneJobConfig config;
  std::string config_hash;
  method::ModePlan plan;
  std::shared_ptr<LoadedBaseModel> base;
  // Set when the job uses a teacher (every mode but SFT, and SFT when one is active for
  // screening).
  std::optional<store::TeacherRecord> teacher;
  std::optional<method::TeacherArtifact> teacher_artifact;
  // Training rows, skipped lines removed.
  std::vector<data::Record> records;
  model::LoraConfig lora;
  // Name of the student adapter on the base model.
  std::string student_adapter;
};

// EVALUATING: harmful score (strict and content) on the teacher's harmful-evaluation prompts, and
// loss, perplexity and label accuracy on the validation dataset; appends an EVALUATION event.
absl::Status EvaluateStudent(JobRun& run, FinetuneContext& context);

// EXPORTING: the student adapter in PEFT layout plus reftune.json in <job folder>/adapter, and an
// ARTIFACTS event listing every file with its size and SHA-256.
absl::Status ExportStudent(JobRun& run, FinetuneContext& context);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_FINETUNE_STAGES_H_
