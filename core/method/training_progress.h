// What a training loop reports to its caller, how the caller stops it, and the typed failures.
#ifndef REFTUNE_CORE_METHOD_TRAINING_PROGRESS_H_
#define REFTUNE_CORE_METHOD_TRAINING_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace reftune::method {

// One optimizer step's numbers. Passed to the progress callback after every step.
struct TrainingProgress {
  // 1-based count of finished optimizer steps.
  int64_t step = 0;
  int64_t total_steps = 0;
  // 0-based epoch of the step.
  int64_t epoch = 0;
  // Each loss term by name (for example "ce_harmless", "regularizer", "kl") and "total".
  std::map<std::string, double> losses;
  double learning_rate = 0.0;
  // L2 norm of the adapter gradients before clipping.
  double grad_norm = 0.0;
  // Real tokens per second over the step (prompt, answer and alignment tokens).
  double tokens_per_second = 0.0;
  // Seconds since the run (or the resumed run) started.
  double elapsed_seconds = 0.0;
};

enum class TrainingControl { kContinue, kStop };

// Called after every step on the training thread. A worker hooks events, metrics, checkpoint
// saving (every N steps) and cancellation here; returning kStop ends the run after this step
// with a CANCELLED status. Unset means continue.
using ProgressCallback = std::function<TrainingControl(const TrainingProgress&)>;

// Why a training run failed, carried as a payload of its Status.
enum class TrainingFailure {
  kNone,
  // A loss or gradient norm became NaN or infinite.
  kNonFiniteLoss,
  // The loss grew past divergence_ratio times its lowest running mean.
  kDiverged,
};

// Payload type URL under which TrainingFailure is stored.
inline constexpr char kTrainingFailurePayload[] = "type.reftune.dev/TrainingFailure";

// INTERNAL with the failure attached as payload ("non_finite_loss" or "diverged").
absl::Status TrainingFailureError(TrainingFailure failure, const std::string& message);

// Returns the failure attached by TrainingFailureError, or kNone.
TrainingFailure GetTrainingFailure(const absl::Status& status);

// Watches the total loss of every step and reports NaN, infinity and divergence.
class DivergenceMonitor {
 public:
  // divergence_ratio <= 0 disables the divergence check; warmup_steps steps pass before it applies.
  DivergenceMonitor(double divergence_ratio, int64_t warmup_steps)
      : divergence_ratio_(divergence_ratio), warmup_steps_(warmup_steps) {}

  // Returns a TrainingFailureError naming the step and the values, or OK.
  absl::Status Check(int64_t step, double loss, double grad_norm);

 private:
  double divergence_ratio_;
  int64_t warmup_steps_;
  int64_t seen_ = 0;
  double running_mean_ = 0.0;
  double lowest_mean_ = 0.0;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_TRAINING_PROGRESS_H_
