// The worker's side of a training loop: checkpoints every N steps with their rows, resume from
// the newest checkpoint, progress events and metrics, and the stop check after every step.
#ifndef REFTUNE_SERVICES_WORKER_TRAINING_HOOKS_H_
#define REFTUNE_SERVICES_WORKER_TRAINING_HOOKS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/method/training_progress.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

// Writes a trainer's full state to the given file path.
using SaveStateFunction = std::function<absl::Status(const std::string& path)>;

// A checkpoint to resume from.
struct ResumePoint {
  int64_t step = 0;
  // The trainer's state file inside the checkpoint folder.
  std::string state_path;
};

// Name of the trainer state file inside <job folder>/checkpoints/step-<n>/.
inline constexpr char kTrainingStateFile[] = "training_state.pt";

// The newest checkpoint of the job, or nullopt when it has none. FAILED_PRECONDITION when the
// checkpoint was written under another job config (its config hash differs from
// `config_hash`), because resuming would mix two trainings.
absl::StatusOr<std::optional<ResumePoint>> FindResumePoint(JobRun& run,
                                                           const std::string& config_hash);

// Appends the MESSAGE event naming the resume step ("resume_step" in its payload).
absl::Status AnnounceResume(JobRun& run, int64_t step);

// Builds the progress callback for one training run. Not thread-safe; the trainer calls it on
// its own thread after every step.
class TrainingHooks {
 public:
  // `interval_steps` >= 1: a checkpoint after every multiple of it. `save_state` must write the
  // trainer's state as of the step just finished.
  TrainingHooks(JobRun* run, std::string config_hash, int64_t interval_steps,
                SaveStateFunction save_state);

  method::ProgressCallback Callback();

  // Saves a checkpoint of the step just finished unless one was saved for it already.
  absl::Status SaveCheckpoint(int64_t step);

  // The first error of a checkpoint or an event write; the callback stops training after one.
  const absl::Status& error() const { return error_; }
  // The reason the callback stopped training, or kNone.
  StopReason stop_reason() const { return stop_reason_; }
  int64_t last_checkpoint_step() const { return last_checkpoint_step_; }

 private:
  method::TrainingControl OnStep(const method::TrainingProgress& progress);

  JobRun* run_;
  std::string config_hash_;
  int64_t interval_steps_;
  SaveStateFunction save_state_;
  absl::Status error_;
  StopReason stop_reason_ = StopReason::kNone;
  int64_t last_checkpoint_step_ = -1;
  double last_elapsed_seconds_ = 0;
};

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_TRAINING_HOOKS_H_
