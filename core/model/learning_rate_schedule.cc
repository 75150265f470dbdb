#include "core/model/learning_rate_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace reftune::model {

absl::Status LearningRateSchedule::Validate() const {
  if (!(peak_learning_rate > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("peak_learning_rate must be positive, got ", peak_learning_rate));
  }
  if (warmup_steps < 0 || total_steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("warmup_steps must be >= 0 and total_steps >= 1, got ", warmup_steps,
                     " and ", total_steps));
  }
  if (!(final_fraction >= 0 && final_fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("final_fraction must be in [0, 1], got ", final_fraction));
  }
  return absl::OkStatus();
}

double LearningRateSchedule::LearningRateAt(int64_t step) const {
  if (step < warmup_steps) {
    return peak_learning_rate * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  const double decay_steps = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps) / decay_steps, 0.0, 1.0);
  double factor = 1.0;
  switch (decay) {
    case LearningRateDecay::kCosine:
      factor = final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + std::cos(M_PI * progress));
      break;
    case LearningRateDecay::kLinear:
      factor = 1.0 - (1.0 - final_fraction) * progress;
      break;
    case LearningRateDecay::kConstant:
      break;
  }
  return peak_learning_rate * factor;
}

}  // namespace reftune::model
