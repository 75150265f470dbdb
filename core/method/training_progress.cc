#include "core/method/training_progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace reftune::method {
namespace {

// Weight of the newest loss in the running mean.
constexpr double kRunningMeanWeight = 0.1;

const char* FailureName(TrainingFailure failure) {
  switch (failure) {
    case TrainingFailure::kNonFiniteLoss:
      return "non_finite_loss";
    case TrainingFailure::kDiverged:
      return "diverged";
    case TrainingFailure::kNone:
      break;
  }
  return "none";
}

}  // namespace

absl::Status TrainingFailureError(TrainingFailure failure, const std::string& message) {
  absl::Status status = absl::InternalError(message);
  status.SetPayload(kTrainingFailurePayload, absl::Cord(FailureName(failure)));
  return status;
}

TrainingFailure GetTrainingFailure(const absl::Status& status) {
  const auto payload = status.GetPayload(kTrainingFailurePayload);
  if (!payload.has_value()) return TrainingFailure::kNone;
  if (*payload == "non_finite_loss") return TrainingFailure::kNonFiniteLoss;
  if (*payload == "diverged") return TrainingFailure::kDiverged;
  return TrainingFailure::kNone;
}

absl::Status DivergenceMonitor::Check(int64_t step, double loss, double grad_norm) {
  if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
    return TrainingFailureError(
        TrainingFailure::kNonFiniteLoss,
        absl::StrCat("training stopped at step ", step, ": loss ", loss, ", gradient norm ",
                     grad_norm, " is not finite; lower the learning rate or check the data"));
  }

  running_mean_ = seen_ == 0 ? loss
                             : (1.0 - kRunningMeanWeight) * running_mean_ +
                                   kRunningMeanWeight * loss;
  lowest_mean_ = seen_ == 0 ? running_mean_ : std::min(lowest_mean_, running_mean_);
  ++seen_;

  if (divergence_ratio_ > 0.0 && seen_ > warmup_steps_ && lowest_mean_ > 0.0 &&
      running_mean_ > divergence_ratio_ * lowest_mean_) {
    return TrainingFailureError(
        TrainingFailure::kDiverged,
        absl::StrCat("training diverged at step ", step, ": running mean loss ", running_mean_,
                     " is above ", divergence_ratio_, " x its lowest value ", lowest_mean_,
                     "; lower the learning rate"));
  }
  return absl::OkStatus();
}

}  // namespace reftune::method
