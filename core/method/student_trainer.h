// Student finetuning from the base model with a fresh LoRA adapter:
//   L_ft = 1/N * sum_i w_i * CE(x_i, y_i) + alpha * T^2 * mean KL(p_T^teacher || p_T^student)
// where N is the user batch size and the KL term runs on alignment answers with cached teacher
// soft labels. Which terms run is set by the finetune mode (see PlanForMode).
#ifndef REFTUNE_CORE_METHOD_STUDENT_TRAINER_H_
#define REFTUNE_CORE_METHOD_STUDENT_TRAINER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/method/adapter_optimizer.h"
#include "core/method/soft_label_cache.h"
#include "core/method/token_batch.h"
#include "core/method/training_progress.h"
#include "core/model/lora_config.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct StudentTrainingOptions {
  model::LoraConfig lora;
  std::string adapter_name = "student";
  // Seeds the adapter initialisation, the data order and the dropout masks.
  uint64_t seed = 0;
  // User rows per step.
  int64_t batch_size = 16;
  // Alignment rows per step for the KL term (used only with soft labels).
  int64_t alignment_batch_size = 8;
  // Passes over the kept user rows.
  int64_t epochs = 5;
  // total_steps is filled in from the data.
  OptimizerOptions optimizer{.learning_rate = 3e-3};
  // alpha, the weight of the distillation term.
  double distill_weight = 0.1;
  // T of the soft labels; must match the temperature they were computed with.
  double temperature = 1.0;
  // A glog INFO line every this many steps; 0 logs none.
  int64_t log_every_steps = 10;
  // See DivergenceMonitor; 0 disables the divergence check.
  double divergence_ratio = 10.0;
};

// Trains a student adapter. Rows with weight 0 are left out of the data order (they add nothing
// to the loss), so an epoch covers the kept rows. Not thread-safe.
class StudentTrainer {
 public:
  // `user` are encoded user rows and `weights` their w_i (empty: all 1). `alignment` and
  // `soft_labels` enable the KL term when both are given (soft_labels->offsets must cover
  // alignment). Adds the adapter options.adapter_name, which must not exist yet.
  static absl::StatusOr<std::unique_ptr<StudentTrainer>> Create(
      model::Transformer model, std::vector<EncodedExample> user, std::vector<double> weights,
      std::vector<EncodedExample> alignment, std::shared_ptr<const SoftLabelSet> soft_labels,
      StudentTrainingOptions options);

  // Trains from finished_steps() to total_steps(); CANCELLED when the callback stops it,
  // a TrainingFailureError on NaN or divergence.
  absl::Status Run(const ProgressCallback& callback);

  absl::Status SaveState(const std::string& path) const;
  absl::Status RestoreState(const std::string& path);

  int64_t finished_steps() const { return finished_steps_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t kept_rows() const { return static_cast<int64_t>(kept_.size()); }
  bool distills() const { return soft_labels_ != nullptr; }

 private:
  StudentTrainer(model::Transformer model, StudentTrainingOptions options);
  absl::Status RunStep(int64_t step, const ProgressCallback& callback,
                       const std::chrono::steady_clock::time_point& start);
  std::vector<int64_t> AlignmentIndices(int64_t step) const;

  model::Transformer model_;
  StudentTrainingOptions options_;
  std::vector<EncodedExample> user_;
  std::vector<double> weights_;
  // Indices of user rows with weight > 0.
  std::vector<int64_t> kept_;
  std::vector<EncodedExample> alignment_;
  std::shared_ptr<const SoftLabelSet> soft_labels_;
  std::unique_ptr<AdapterOptimizer> optimizer_;
  DivergenceMonitor monitor_;
  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;
  int64_t finished_steps_ = 0;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_STUDENT_TRAINER_H_
