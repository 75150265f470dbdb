#include "services/worker/teacher_pipeline.h"

#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/layer_calibration.h"
#include "core/method/teacher_artifact.h"
#include "core/method/teacher_trainer.h"
#include "glog/logging.h"
#include "services/worker/dataset_loading.h"
#include "services/worker/job_config.h"
#include "services/worker/job_failure.h"
#include "services/worker/training_hooks.h"

namespace reftune::worker {
namespace {

// Share of each side of the alignment set held out for the layer and threshold calibration.
constexpr double kHeldOutFraction = 0.2;
// Default block whose residual output the teacher's regulariser shapes, lowered for shallow models.
constexpr int64_t kDefaultTeacherLayer = 3;

struct SplitAlignment {
  method::AlignmentData train;
  method::AlignmentData held_out;
};

// Holds out the last kHeldOutFraction of each side (at least one row) and trains on the rest; a
// side with a single row is used for both.
SplitAlignment HoldOut(const method::AlignmentData& data) {
  SplitAlignment split;
  auto divide = [](const std::vector<data::Record>& rows, std::vector<data::Record>* train,
                   std::vector<data::Record>* held_out) {
    if (rows.size() < 2) {
      *train = rows;
      *held_out = rows;
      return;
    }
    const size_t held = std::max<size_t>(1, static_cast<size_t>(rows.size() * kHeldOutFraction));
    train->assign(rows.begin(), rows.end() - held);
    held_out->assign(rows.end() - held, rows.end());
  };
  divide(data.harmful, &split.train.harmful, &split.held_out.harmful);
  divide(data.harmless, &split.train.harmless, &split.held_out.harmless);
  return split;
}

method::TeacherTrainingOptions TrainingOptions(const TeacherJobConfig& config,
                                               const model::ModelConfig& model_config,
                                               const std::string& adapter_name,
                                               const std::string& base_model) {
  const v1::TeacherSettings& settings = config.settings;
  method::TeacherTrainingOptions options;
  options.adapter_name = adapter_name;
  options.seed = config.seed;
  options.lora.r = settings.has_lora_r() ? settings.lora_r() : 16;
  options.lora.lora_alpha = settings.has_lora_alpha() ? settings.lora_alpha() : 32.0;
  options.lora.base_model_name_or_path = base_model;
  options.layer = settings.has_layer()
                      ? settings.layer()
                      : std::min<int64_t>(kDefaultTeacherLayer, model_config.n_layers - 1);
  options.batch_size = settings.has_batch_size() ? settings.batch_size() : 16;
  options.epochs = settings.has_epochs() ? settings.epochs() : 4;
  options.optimizer.learning_rate = settings.has_learning_rate() ? settings.learning_rate() : 2e-3;
  options.regularizer_weight = settings.has_lambda() ? settings.lambda() : 0.1;
  options.refresh_every_steps =
      settings.has_feature_update_interval_steps() ? settings.feature_update_interval_steps() : 20;
  options.encode.max_seq_len = settings.has_max_seq_len() ? settings.max_seq_len() : 256;
  options.encode.max_answer_tokens =
      settings.has_max_answer_tokens() ? settings.max_answer_tokens() : 64;
  options.encode.end_of_answer_id = model_config.end_of_answer_id;
  options.log_every_steps = 0;
  return options;
}

absl::StatusOr<method::CalibrationReport> Calibrate(
    LoadedBaseModel& base, const SplitAlignment& split, const method::EncodeOptions& encode,
    const std::string& adapter, std::optional<int64_t> layer,
    std::vector<torch::Tensor>* refusal_features) {
  auto encode_prompts = [&](const std::vector<data::Record>& records) {
    return method::EncodeExamples(*base.tokenizer, base.prompt_template, records,
                                  /*with_answer=*/false, encode);
  };
  REFTUNE_ASSIGN_OR_RETURN(auto train_harmful, encode_prompts(split.train.harmful));
  REFTUNE_ASSIGN_OR_RETURN(auto train_harmless, encode_prompts(split.train.harmless));
  REFTUNE_ASSIGN_OR_RETURN(auto held_harmful, encode_prompts(split.held_out.harmful));
  REFTUNE_ASSIGN_OR_RETURN(auto held_harmless, encode_prompts(split.held_out.harmless));

  method::CalibrationOptions options;
  options.adapter = adapter;
  if (layer.has_value()) options.layers = {*layer};
  return method::CalibrateLayers(base.model, train_harmful, train_harmless, held_harmful,
                                 held_harmless, options, refusal_features);
}

}  // namespace

absl::Status RunTeacherJob(JobRun& run) {
  const store::JobRecord& job = run.job();
  REFTUNE_ASSIGN_OR_RETURN(TeacherJobConfig config, ParseTeacherJobConfig(job.config_json));
  REFTUNE_ASSIGN_OR_RETURN(std::string config_hash, CanonicalConfigHash(job.config_json));

  // Load the base model and the alignment rows.
  absl::StatusOr<store::BaseModelRecord> record =
      run.services().base_models->GetByName(config.base_model);
  if (!record.ok()) return MissingModelError(record.status().message());
  REFTUNE_ASSIGN_OR_RETURN(std::shared_ptr<LoadedBaseModel> base,
                           run.services().models->Get(*record));
  REFTUNE_ASSIGN_OR_RETURN(std::vector<data::Record> rows,
                           LoadDatasetRecords(run, config.alignment_dataset_id, "alignment dataset"));
  absl::StatusOr<method::AlignmentData> alignment = method::SplitAlignmentRecords(rows);
  if (!alignment.ok()) return InvalidDataError(alignment.status().message());
  if (alignment->harmful.empty() || alignment->harmless.empty()) {
    return InvalidDataError(absl::StrCat("alignment dataset ", config.alignment_dataset_id,
                                         " needs harmful and harmless rows, got ",
                                         alignment->harmful.size(), " and ",
                                         alignment->harmless.size()));
  }
  const SplitAlignment split = HoldOut(*alignment);

  // TRAINING (the claim already moved the job there).
  const std::string adapter = absl::StrCat("teacher-job-", job.id);
  if (base->model->HasAdapter(adapter)) REFTUNE_RETURN_IF_ERROR(base->model->RemoveAdapter(adapter));
  absl::Cleanup remove_adapter = [&] { (void)base->model->RemoveAdapter(adapter); };

  const method::TeacherTrainingOptions options =
      TrainingOptions(config, base->model->config(), adapter, config.base_model);
  absl::StatusOr<std::unique_ptr<method::TeacherTrainer>> trainer = method::TeacherTrainer::Create(
      base->model, base->tokenizer, base->prompt_template, split.train, options);
  if (!trainer.ok()) return InvalidDataError(trainer.status().message());

  REFTUNE_ASSIGN_OR_RETURN(std::optional<ResumePoint> resume, FindResumePoint(run, config_hash));
  if (resume.has_value()) {
    REFTUNE_RETURN_IF_ERROR((*trainer)->RestoreState(resume->state_path));
    REFTUNE_RETURN_IF_ERROR(AnnounceResume(run, resume->step));
  }

  const int64_t interval = run.options().checkpoint_interval_override_steps > 0
                               ? run.options().checkpoint_interval_override_steps
                               : 50;
  TrainingHooks hooks(&run, config_hash, interval, [&](const std::string& path) {
    return (*trainer)->SaveState(path);
  });
  absl::Status trained = (*trainer)->Run(hooks.Callback());
  if (!hooks.error().ok()) return hooks.error();
  if (hooks.stop_reason() != StopReason::kNone) {
    return run.StopStatus(hooks.stop_reason(), "during TRAINING");
  }
  REFTUNE_RETURN_IF_ERROR(trained);
  if (StopReason stop = run.CheckStop(); stop != StopReason::kNone) {
    return run.StopStatus(stop, "after TRAINING");
  }

  // EVALUATING: choose the layer and the threshold on the held-out rows.
  REFTUNE_RETURN_IF_ERROR(run.Transition(jobs::JobState::kEvaluating, "teacher training finished"));
  std::optional<int64_t> fixed_layer;
  if (config.settings.has_layer()) fixed_layer = config.settings.layer();
  std::vector<torch::Tensor> features;
  absl::StatusOr<method::CalibrationReport> report =
      Calibrate(*base, split, options.encode, adapter, fixed_layer, &features);
  if (!report.ok()) return InvalidDataError(report.status().message());
  const method::LayerQuality& chosen = report->layers[report->chosen];
  const double threshold =
      config.settings.has_threshold() ? config.settings.threshold() : chosen.threshold;
  REFTUNE_RETURN_IF_ERROR(run.AppendMessage(
      absl::StrCat("calibrated layer ", chosen.layer, " with threshold ", threshold),
      {{"layer", chosen.layer}, {"threshold", threshold}, {"quality_report", report->ToJson()}}));
  if (StopReason stop = run.CheckStop(); stop != StopReason::kNone) {
    return run.StopStatus(stop, "after EVALUATING");
  }

  // EXPORTING: the teacher folder and its row.
  REFTUNE_RETURN_IF_ERROR(run.Transition(jobs::JobState::kExporting, "teacher calibrated"));
  method::TeacherArtifact artifact;
  artifact.lora = options.lora;
  REFTUNE_ASSIGN_OR_RETURN(artifact.adapter_tensors, base->model->ExportAdapter(adapter));
  artifact.layer = chosen.layer;
  artifact.refusal_feature = features[report->chosen];
  artifact.threshold = threshold;
  artifact.prompt_template = base->prompt_template;
  artifact.end_of_answer_id = base->model->config().end_of_answer_id;
  artifact.quality_report = report->ToJson();
  artifact.fingerprint = method::ComputeTeacherFingerprint(artifact);

  REFTUNE_ASSIGN_OR_RETURN(std::string job_folder, run.JobFolder());
  const std::string folder = absl::StrCat(job_folder, "/teacher");
  REFTUNE_RETURN_IF_ERROR(method::SaveTeacher(folder, artifact));

  store::TeacherRecord teacher;
  teacher.base_model = config.base_model;
  teacher.job_id = job.id;
  teacher.adapter_path = folder;
  teacher.layer = static_cast<int>(chosen.layer);
  teacher.refusal_feature_path = absl::StrCat(folder, "/refusal_feature.safetensors");
  teacher.threshold = threshold;
  teacher.quality_report_json = report->ToJson().dump();
  teacher.harmful_eval_dataset_id = config.harmful_eval_dataset_id;
  teacher.prompt_template = base->prompt_template.text();
  REFTUNE_ASSIGN_OR_RETURN(store::TeacherRecord created, run.services().teachers->Create(teacher));
  LOG(INFO) << "job " << job.id << " created teacher " << created.id << " (layer " << chosen.layer
            << ", threshold " << threshold << ") in " << folder;
  REFTUNE_RETURN_IF_ERROR(run.AppendMessage(absl::StrCat("created teacher ", created.id),
                                            {{"teacher_id", created.id}, {"folder", folder}}));
  return absl::OkStatus();
}

}  // namespace reftune::worker
