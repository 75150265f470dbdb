// Learning-rate schedule: linear warm-up, then cosine, linear or no decay.
#ifndef REFTUNE_CORE_MODEL_LEARNING_RATE_SCHEDULE_H_
#define REFTUNE_CORE_MODEL_LEARNING_RATE_SCHEDULE_H_

#include <cstdint>

#include "absl/status/status.h"

namespace reftune::model {

enum class LearningRateDecay { kCosine, kLinear, kConstant };

struct LearningRateSchedule {
  // Learning rate at the end of warm-up.
  double peak_learning_rate = 1e-3;
  // Steps of linear warm-up from peak / warmup_steps to peak; 0 starts at the peak.
  int64_t warmup_steps = 0;
  // Total optimizer steps of the run; decay reaches its end at this step.
  int64_t total_steps = 1;
  LearningRateDecay decay = LearningRateDecay::kCosine;
  // Final learning rate as a fraction of the peak, in [0, 1].
  double final_fraction = 0.0;

  // Checks the fields; the message names the field and the value.
  absl::Status Validate() const;

  // Learning rate of 0-based optimizer step `step`; steps past total_steps keep the final rate.
  double LearningRateAt(int64_t step) const;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_LEARNING_RATE_SCHEDULE_H_
