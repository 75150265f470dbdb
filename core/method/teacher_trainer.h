// Training of the Ref-Teacher: the base model plus a LoRA adapter trained with
//   L_teacher = CE(x_s, y_s) + CE(x_us, y_r)
//             + lambda * (|1 + CS(f^l(x_s), R^l)| + |1 - CS(f^l(x_us), R^l)|)
// on balanced batches of harmless (x_s, y_s) and harmful (x_us, refusal y_r) alignment rows, with
// R^l recomputed from the current teacher every K steps.
#ifndef REFTUNE_CORE_METHOD_TEACHER_TRAINER_H_
#define REFTUNE_CORE_METHOD_TEACHER_TRAINER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/data/record.h"
#include "core/method/adapter_optimizer.h"
#include "core/method/token_batch.h"
#include "core/method/training_progress.h"
#include "core/model/lora_config.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::method {

// Alignment rows: harmful prompts with refusal answers and harmless prompts with helpful answers.
struct AlignmentData {
  std::vector<data::Record> harmful;
  std::vector<data::Record> harmless;
};

// Splits records by their meta "harmful" mark; INVALID_ARGUMENT names the first unmarked line.
absl::StatusOr<AlignmentData> SplitAlignmentRecords(const std::vector<data::Record>& records);

struct TeacherTrainingOptions {
  model::LoraConfig lora;
  std::string adapter_name = "teacher";
  // Seeds the adapter initialisation, the data order and the dropout masks.
  uint64_t seed = 0;
  // Block (0-based) whose residual output is the feature f^l.
  int64_t layer = 3;
  // Rows per step, half harmful and half harmless; must be even.
  int64_t batch_size = 16;
  // Passes over the smaller of the two halves of the alignment data.
  int64_t epochs = 4;
  // total_steps is filled in from the data; the rest applies as documented there.
  OptimizerOptions optimizer;
  // lambda, the weight of the refusal-feature regulariser.
  double regularizer_weight = 0.1;
  // K: R^l is recomputed from the current teacher before every K-th step.
  int64_t refresh_every_steps = 20;
  EncodeOptions encode;
  // Prompts per forward pass while recomputing R^l.
  int64_t feature_batch_size = 64;
  // A glog INFO line every this many steps; 0 logs none.
  int64_t log_every_steps = 10;
  // See DivergenceMonitor; 0 disables the divergence check.
  double divergence_ratio = 10.0;
};

// Mean loss terms over a data set.
struct TeacherLossTerms {
  double ce_harmless = 0.0;
  double ce_harmful = 0.0;
  double regularizer = 0.0;
  double total = 0.0;
};

// Runs teacher training on a model shared with the caller. Not thread-safe: one trainer per model
// at a time, because it adds and trains an adapter.
class TeacherTrainer {
 public:
  // Encodes the data and adds the adapter options.adapter_name (which must not exist yet).
  static absl::StatusOr<std::unique_ptr<TeacherTrainer>> Create(
      model::Transformer model, std::shared_ptr<const model::Tokenizer> tokenizer,
      data::PromptTemplate prompt_template, const AlignmentData& data,
      TeacherTrainingOptions options);

  // Trains from finished_steps() to total_steps(). Returns CANCELLED when the callback asked to
  // stop, and a TrainingFailureError on NaN or divergence.
  absl::Status Run(const ProgressCallback& callback);

  // Recomputes R^l from the current adapter over all alignment prompts.
  absl::Status RefreshRefusalFeature();

  // Mean loss terms over the whole alignment data with the current adapter and R^l, no gradients.
  absl::StatusOr<TeacherLossTerms> EvaluateLoss();

  // Saves or restores everything needed to continue exactly: adapter, optimizer, step and R^l.
  absl::Status SaveState(const std::string& path) const;
  absl::Status RestoreState(const std::string& path);

  int64_t finished_steps() const { return finished_steps_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  // [dim] float32; undefined before the first refresh.
  const torch::Tensor& refusal_feature() const { return refusal_feature_; }
  const TeacherTrainingOptions& options() const { return options_; }

 private:
  TeacherTrainer(model::Transformer model, TeacherTrainingOptions options);

  // Loss terms of one balanced batch; `total` keeps its graph.
  struct BatchLoss {
    torch::Tensor total;
    TeacherLossTerms terms;
    int64_t token_count = 0;
  };
  // `indices` address examples_.
  absl::StatusOr<BatchLoss> ComputeBatchLoss(const std::vector<int64_t>& indices, bool training,
                                             int64_t step);
  absl::Status RunStep(int64_t step, const ProgressCallback& callback,
                       const std::chrono::steady_clock::time_point& start);

  model::Transformer model_;
  TeacherTrainingOptions options_;
  // Harmful examples first, then harmless ones.
  std::vector<EncodedExample> examples_;
  int64_t harmful_count_ = 0;
  std::unique_ptr<AdapterOptimizer> optimizer_;
  DivergenceMonitor monitor_;
  torch::Tensor refusal_feature_;
  int64_t steps_per_epoch_ = 0;
  int64_t total_steps_ = 0;
  int64_t finished_steps_ = 0;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_TEACHER_TRAINER_H_
