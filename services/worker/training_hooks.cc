#include "services/worker/training_hooks.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"
#include "glog/logging.h"

namespace reftune::worker {
namespace {

constexpr char kCheckpointMetadataFile[] = "checkpoint.json";

double LossTerm(const method::TrainingProgress& progress, const std::string& name) {
  auto it = progress.losses.find(name);
  return it == progress.losses.end() ? 0.0 : it->second;
}

// The task part of the loss: the cross-entropy terms of whichever trainer reported them.
double TaskLoss(const method::TrainingProgress& progress) {
  double task = 0;
  for (const auto& [name, value] : progress.losses) {
    if (name.rfind("ce", 0) == 0) task += value;
  }
  return task;
}

}  // namespace

absl::StatusOr<std::optional<ResumePoint>> FindResumePoint(JobRun& run,
                                                           const std::string& config_hash) {
  absl::StatusOr<std::optional<store::CheckpointRecord>> latest =
      run.services().checkpoints->LatestCheckpoint(run.job().id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return std::optional<ResumePoint>();

  const std::string folder = (*latest)->path;
  absl::StatusOr<nlohmann::json> metadata =
      data::ReadJsonFile(absl::StrCat(folder, "/", kCheckpointMetadataFile));
  if (!metadata.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint of job ", run.job().id, " at step ", (*latest)->step,
        " cannot be read: ", metadata.status().message()));
  }
  const std::string stored_hash = metadata->value("config_sha256", "");
  if (stored_hash != config_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint of job ", run.job().id, " at step ", (*latest)->step,
        " was written under job config sha256 ", stored_hash, ", but the job's config is now ",
        config_hash, "; a resume needs the config it started with"));
  }
  return std::optional<ResumePoint>(
      ResumePoint{(*latest)->step, absl::StrCat(folder, "/", kTrainingStateFile)});
}

absl::Status AnnounceResume(JobRun& run, int64_t step) {
  LOG(INFO) << "job " << run.job().id << " resumes from its checkpoint at step " << step
            << " (attempt " << run.job().attempt << ")";
  return run.AppendMessage(absl::StrCat("resumed from the checkpoint at step ", step),
                           {{"resume_step", step}});
}

TrainingHooks::TrainingHooks(JobRun* run, std::string config_hash, int64_t interval_steps,
                             SaveStateFunction save_state)
    : run_(run),
      config_hash_(std::move(config_hash)),
      interval_steps_(std::max<int64_t>(1, interval_steps)),
      save_state_(std::move(save_state)) {}

method::ProgressCallback TrainingHooks::Callback() {
  return [this](const method::TrainingProgress& progress) { return OnStep(progress); };
}

absl::Status TrainingHooks::SaveCheckpoint(int64_t step) {
  if (step == last_checkpoint_step_) return absl::OkStatus();
  absl::StatusOr<std::string> job_folder = run_->JobFolder();
  if (!job_folder.ok()) return job_folder.status();
  const std::string folder = absl::StrCat(*job_folder, "/checkpoints/step-", step);

  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create checkpoint folder ", folder, ": ", error.message()));
  }
  if (absl::Status saved = save_state_(absl::StrCat(folder, "/", kTrainingStateFile));
      !saved.ok()) {
    return saved;
  }
  const nlohmann::json metadata = {{"job_id", run_->job().id},
                                   {"step", step},
                                   {"config_sha256", config_hash_}};
  {
    std::ofstream out(absl::StrCat(folder, "/", kCheckpointMetadataFile), std::ios::trunc);
    out << metadata.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write checkpoint metadata in ", folder));
  }

  // The row goes in last, so a crash before it leaves a folder that no resume reads.
  if (absl::Status recorded =
          run_->services().checkpoints->RecordCheckpoint(run_->job().id, step, folder);
      !recorded.ok()) {
    return recorded;
  }
  last_checkpoint_step_ = step;
  VLOG(1) << "job " << run_->job().id << " saved a checkpoint at step " << step;
  return absl::OkStatus();
}

method::TrainingControl TrainingHooks::OnStep(const method::TrainingProgress& progress) {
  metrics::Metrics* metrics = run_->services().metrics;
  const double step_seconds = std::max(0.0, progress.elapsed_seconds - last_elapsed_seconds_);
  last_elapsed_seconds_ = progress.elapsed_seconds;
  if (metrics != nullptr) {
    metrics->train_step_duration.Observe(step_seconds);
    metrics->train_tokens.Increment(progress.tokens_per_second * step_seconds);
  }

  const bool last_step = progress.step >= progress.total_steps;
  const int64_t every = std::max<int64_t>(1, run_->options().progress_every_steps);
  if (progress.step % every == 0 || last_step) {
    const nlohmann::json payload = {{"step", progress.step},
                                    {"total_steps", progress.total_steps},
                                    {"epoch", progress.epoch},
                                    {"loss", LossTerm(progress, "total")},
                                    {"task_loss", TaskLoss(progress)},
                                    {"kl_loss", LossTerm(progress, "kl")},
                                    {"learning_rate", progress.learning_rate},
                                    {"tokens_per_second", progress.tokens_per_second}};
    const double fraction =
        progress.total_steps > 0 ? static_cast<double>(progress.step) / progress.total_steps : 0;
    if (absl::Status recorded = run_->RecordProgress(fraction, payload); !recorded.ok()) {
      // A lost lease shows up here first; the stop check below ends the run.
      LOG(WARNING) << "progress of job " << run_->job().id << " not recorded: " << recorded;
    }
  }

  if (progress.step % interval_steps_ == 0 && !last_step) {
    if (absl::Status saved = SaveCheckpoint(progress.step); !saved.ok()) {
      error_ = saved;
      return method::TrainingControl::kStop;
    }
  }

  stop_reason_ = run_->CheckStop();
  if (stop_reason_ == StopReason::kNone) return method::TrainingControl::kContinue;
  LOG(INFO) << "job " << run_->job().id << " stops training after step " << progress.step << ": "
            << StopReasonName(stop_reason_);
  if (stop_reason_ == StopReason::kShutdown) {
    if (absl::Status saved = SaveCheckpoint(progress.step); !saved.ok()) error_ = saved;
  }
  return method::TrainingControl::kStop;
}

}  // namespace reftune::worker
