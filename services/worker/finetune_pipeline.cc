#include "services/worker/finetune_pipeline.h"

#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/soft_label_cache.h"
#include "core/method/student_trainer.h"
#include "core/method/teacher_trainer.h"
#include "glog/logging.h"
#include "services/worker/dataset_loading.h"
#include "services/worker/finetune_stages.h"
#include "services/worker/job_failure.h"
#include "services/worker/screening_stage.h"
#include "services/worker/training_hooks.h"

namespace reftune::worker {
namespace {

template <typename T, typename U>
T ValueOr(bool has, T value, U fallback) {
  return has ? value : static_cast<T>(fallback);
}

method::EncodeOptions EncodeFor(const v1::Hyperparameters& h, const model::ModelConfig& config) {
  method::EncodeOptions encode;
  encode.max_seq_len = ValueOr(h.has_max_seq_len(), h.max_seq_len(), 256);
  encode.max_answer_tokens = ValueOr(h.has_max_answer_tokens(), h.max_answer_tokens(), 64);
  encode.end_of_answer_id = config.end_of_answer_id;
  return encode;
}

// Loads the config, the base model, the teacher (when the mode or screening uses one) and the
// training rows.
absl::Status Prepare(JobRun& run, FinetuneContext& context) {
  const store::JobRecord& job = run.job();
  REFTUNE_ASSIGN_OR_RETURN(context.config, ParseFinetuneJobConfig(job.config_json));
  REFTUNE_ASSIGN_OR_RETURN(context.config_hash, CanonicalConfigHash(job.config_json));
  context.plan = method::PlanForMode(context.config.mode);

  absl::StatusOr<store::BaseModelRecord> record =
      run.services().base_models->GetByName(context.config.base_model);
  if (!record.ok()) return MissingModelError(record.status().message());
  REFTUNE_ASSIGN_OR_RETURN(context.base, run.services().models->Get(*record));

  // The job's recorded teacher wins over the currently active one, so a requeued job keeps it.
  std::optional<store::TeacherRecord> teacher;
  if (job.teacher_id.has_value()) {
    absl::StatusOr<store::TeacherRecord> stored = run.services().teachers->Get(*job.teacher_id);
    if (!stored.ok()) return MissingModelError(stored.status().message());
    teacher = *stored;
  } else {
    REFTUNE_ASSIGN_OR_RETURN(teacher, run.services().teachers->Active(context.config.base_model));
    if (teacher.has_value()) {
      REFTUNE_RETURN_IF_ERROR(
          run.services().worker_jobs->SetTeacher(job.id, run.worker_id(), teacher->id));
    }
  }
  if (!teacher.has_value() && context.plan.needs_teacher()) {
    return MissingModelError(absl::StrCat("safety mode ", std::string(method::FinetuneModeName(context.config.mode)),
                                          " needs a teacher, but base model \"",
                                          context.config.base_model, "\" has no active teacher"));
  }
  if (teacher.has_value()) {
    absl::StatusOr<method::TeacherArtifact> artifact = method::LoadTeacher(teacher->adapter_path);
    if (!artifact.ok()) {
      return MissingModelError(absl::StrCat("cannot load teacher ", teacher->id, " from ",
                                            teacher->adapter_path, ": ",
                                            artifact.status().message()));
    }
    REFTUNE_RETURN_IF_ERROR(
        run.services().models->EnsureTeacherAdapter(*context.base, teacher->id, *artifact));
    context.teacher = teacher;
    context.teacher_artifact = *std::move(artifact);
  }

  REFTUNE_ASSIGN_OR_RETURN(std::vector<data::Record> records,
                           LoadDatasetRecords(run, context.config.dataset_id, "training dataset"));
  const std::set<int64_t> skipped(context.config.skipped_lines.begin(),
                                  context.config.skipped_lines.end());
  for (data::Record& record : records) {
    if (skipped.count(record.line) == 0) context.records.push_back(std::move(record));
  }
  if (context.records.empty()) {
    return InvalidDataError(absl::StrCat("training dataset ", context.config.dataset_id,
                                         " has no records left after skipping ", skipped.size(),
                                         " overlong lines"));
  }

  const v1::Hyperparameters& h = context.config.hyperparameters;
  context.lora.r = ValueOr(h.has_lora_r(), h.lora_r(), 16);
  context.lora.lora_alpha = ValueOr(h.has_lora_alpha(), h.lora_alpha(), 32.0);
  context.lora.lora_dropout = ValueOr(h.has_lora_dropout(), h.lora_dropout(), 0.0);
  if (h.target_modules_size() > 0) {
    context.lora.target_modules.assign(h.target_modules().begin(), h.target_modules().end());
  }
  context.lora.base_model_name_or_path = context.config.base_model;
  context.student_adapter = absl::StrCat("student-", job.id);
  return absl::OkStatus();
}

// The teacher's alignment rows and their cached soft labels, for the KL term.
absl::Status LoadDistillation(JobRun& run, FinetuneContext& context,
                              const method::EncodeOptions& encode,
                              std::vector<method::EncodedExample>* alignment,
                              std::shared_ptr<const method::SoftLabelSet>* soft_labels) {
  const store::TeacherRecord& teacher = *context.teacher;
  if (teacher.job_id.empty()) {
    return MissingModelError(absl::StrCat("teacher ", teacher.id,
                                          " has no training job, so its alignment set is unknown"));
  }
  REFTUNE_ASSIGN_OR_RETURN(store::JobRecord teacher_job,
                           run.services().jobs->GetJobForWorker(teacher.job_id));
  REFTUNE_ASSIGN_OR_RETURN(TeacherJobConfig teacher_config,
                           ParseTeacherJobConfig(teacher_job.config_json));
  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<data::Record> rows,
      LoadDatasetRecords(run, teacher_config.alignment_dataset_id, "alignment dataset"));

  absl::StatusOr<std::vector<method::EncodedExample>> encoded = method::EncodeExamples(
      *context.base->tokenizer, context.teacher_artifact->prompt_template, rows,
      /*with_answer=*/true, encode);
  if (!encoded.ok()) return InvalidDataError(encoded.status().message());
  *alignment = *std::move(encoded);

  const v1::Hyperparameters& h = context.config.hyperparameters;
  method::SoftLabelOptions options;
  options.adapter = TeacherAdapterName(teacher.id);
  options.temperature = ValueOr(h.has_kl_temperature(), h.kl_temperature(), 1.0);
  const std::string key =
      method::SoftLabelCacheKey(context.teacher_artifact->fingerprint, *alignment, options);
  method::SoftLabelCache cache(absl::StrCat(run.services().artifacts->root(), "/soft_labels"));
  bool hit = false;
  REFTUNE_ASSIGN_OR_RETURN(
      method::SoftLabelSet labels,
      cache.GetOrCompute(key, context.base->model, *alignment, options, &hit));
  VLOG(1) << "job " << run.job().id << " soft labels " << (hit ? "from the cache" : "computed");
  *soft_labels = std::make_shared<const method::SoftLabelSet>(std::move(labels));
  return absl::OkStatus();
}

absl::Status TrainStudent(JobRun& run, FinetuneContext& context,
                          const std::vector<bool>& filtered) {
  const v1::Hyperparameters& h = context.config.hyperparameters;
  const method::EncodeOptions encode = EncodeFor(h, context.base->model->config());
  absl::StatusOr<std::vector<method::EncodedExample>> user = method::EncodeExamples(
      *context.base->tokenizer, context.base->prompt_template, context.records,
      /*with_answer=*/true, encode);
  if (!user.ok()) return InvalidDataError(user.status().message());

  std::vector<double> weights(context.records.size(), 1.0);
  if (context.plan.filter_user_rows) {
    for (size_t i = 0; i < filtered.size(); ++i) weights[i] = filtered[i] ? 0.0 : 1.0;
  }

  std::vector<method::EncodedExample> alignment;
  std::shared_ptr<const method::SoftLabelSet> soft_labels;
  if (context.plan.distill) {
    REFTUNE_RETURN_IF_ERROR(LoadDistillation(run, context, encode, &alignment, &soft_labels));
  }

  method::StudentTrainingOptions options;
  options.lora = context.lora;
  options.adapter_name = context.student_adapter;
  options.seed = context.config.seed;
  options.batch_size = ValueOr(h.has_batch_size(), h.batch_size(), 16);
  options.epochs = ValueOr(h.has_epochs(), h.epochs(), 5);
  options.optimizer.learning_rate = ValueOr(h.has_learning_rate(), h.learning_rate(), 3e-3);
  options.optimizer.warmup_steps = ValueOr(h.has_warmup_steps(), h.warmup_steps(), 10);
  options.optimizer.max_grad_norm = ValueOr(h.has_max_grad_norm(), h.max_grad_norm(), 1.0);
  options.distill_weight = ValueOr(h.has_kl_alpha(), h.kl_alpha(), 0.1);
  options.temperature = ValueOr(h.has_kl_temperature(), h.kl_temperature(), 1.0);
  options.log_every_steps = 0;

  absl::StatusOr<std::unique_ptr<method::StudentTrainer>> trainer = method::StudentTrainer::Create(
      context.base->model, *std::move(user), std::move(weights), std::move(alignment),
      soft_labels, options);
  if (!trainer.ok()) return InvalidDataError(trainer.status().message());

  REFTUNE_ASSIGN_OR_RETURN(std::optional<ResumePoint> resume,
                           FindResumePoint(run, context.config_hash));
  if (resume.has_value()) {
    REFTUNE_RETURN_IF_ERROR((*trainer)->RestoreState(resume->state_path));
    REFTUNE_RETURN_IF_ERROR(AnnounceResume(run, resume->step));
  }

  const int64_t interval =
      run.options().checkpoint_interval_override_steps > 0
          ? run.options().checkpoint_interval_override_steps
          : ValueOr(h.has_checkpoint_interval_steps(), h.checkpoint_interval_steps(), 50);
  TrainingHooks hooks(&run, context.config_hash, interval,
                      [&](const std::string& path) { return (*trainer)->SaveState(path); });
  const absl::Status trained = (*trainer)->Run(hooks.Callback());
  if (!hooks.error().ok()) return hooks.error();
  if (hooks.stop_reason() != StopReason::kNone) {
    return run.StopStatus(hooks.stop_reason(), "during TRAINING");
  }
  return trained;
}

absl::Status CheckStopAfter(JobRun& run, const std::string& stage) {
  const StopReason stop = run.CheckStop();
  return stop == StopReason::kNone ? absl::OkStatus() : run.StopStatus(stop, "after " + stage);
}

}  // namespace

absl::Status RunFinetuneJob(JobRun& run) {
  FinetuneContext context;
  REFTUNE_RETURN_IF_ERROR(Prepare(run, context));
  LoadedBaseModel& base = *context.base;
  if (base.model->HasAdapter(context.student_adapter)) {
    REFTUNE_RETURN_IF_ERROR(base.model->RemoveAdapter(context.student_adapter));
  }

  // SCREENING (the claim already moved the job there). Without a teacher every row is kept.
  std::vector<bool> filtered(context.records.size(), false);
  if (context.teacher.has_value()) {
    REFTUNE_ASSIGN_OR_RETURN(ScreeningOutcome screening,
                             ScreenRecords(run, *context.teacher, context.records,
                                           context.config.filter_threshold));
    filtered = screening.filtered;
    if (!context.plan.filter_user_rows && screening.filtered_count > 0) {
      REFTUNE_RETURN_IF_ERROR(run.AppendMessage(absl::StrCat(
          "safety mode ", std::string(method::FinetuneModeName(context.config.mode)), " trains on all ",
          context.records.size(), " records; the ", screening.filtered_count,
          " the filter flagged are reported only")));
    }
  } else {
    REFTUNE_RETURN_IF_ERROR(run.AppendMessage(
        "no teacher for this base model, so screening was skipped and every record is kept"));
  }
  REFTUNE_RETURN_IF_ERROR(CheckStopAfter(run, "SCREENING"));

  // TRAINING. ALIGNED_SFT trains on the base with the teacher merged in, and evaluates there too.
  REFTUNE_RETURN_IF_ERROR(run.Transition(jobs::JobState::kTraining, "screening finished"));
  absl::Cleanup remove_student = [&] { (void)base.model->RemoveAdapter(context.student_adapter); };
  const std::string teacher_adapter =
      context.teacher.has_value() ? TeacherAdapterName(context.teacher->id) : "";
  bool merged = false;
  absl::Cleanup unmerge = [&] {
    if (merged) (void)base.model->UnmergeAdapter(teacher_adapter);
  };
  if (context.plan.merge_teacher) {
    REFTUNE_RETURN_IF_ERROR(base.model->MergeAdapter(teacher_adapter));
    merged = true;
  }
  REFTUNE_RETURN_IF_ERROR(TrainStudent(run, context, filtered));
  REFTUNE_RETURN_IF_ERROR(CheckStopAfter(run, "TRAINING"));

  REFTUNE_RETURN_IF_ERROR(run.Transition(jobs::JobState::kEvaluating, "training finished"));
  REFTUNE_RETURN_IF_ERROR(EvaluateStudent(run, context));
  REFTUNE_RETURN_IF_ERROR(CheckStopAfter(run, "EVALUATING"));

  REFTUNE_RETURN_IF_ERROR(run.Transition(jobs::JobState::kExporting, "evaluation finished"));
  return ExportStudent(run, context);
}

}  // namespace reftune::worker
