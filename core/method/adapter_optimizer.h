// AdamW over one LoRA adapter's tensors (model::AdamW), with warm-up plus linear decay of the
// learning rate, gradient clipping, a data order that depends only on (seed, epoch), and a training-state file
// for exact resumption.
#ifndef REFTUNE_CORE_METHOD_ADAPTER_OPTIMIZER_H_
#define REFTUNE_CORE_METHOD_ADAPTER_OPTIMIZER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/adamw.h"
#include "core/model/learning_rate_schedule.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct OptimizerOptions {
  // Peak learning rate, reached after warmup_steps.
  double learning_rate = 2e-3;
  // Steps of linear warm-up to learning_rate; the rate then decays linearly to 0 at total_steps.
  int64_t warmup_steps = 10;
  int64_t total_steps = 1;
  // AdamW decoupled weight decay.
  double weight_decay = 0.0;
  // Gradients are scaled down to this global L2 norm; <= 0 disables clipping.
  double max_grad_norm = 1.0;
};

// A permutation of [0, n) that depends only on (seed, epoch, stream), so a resumed run sees the
// same order. `stream` separates independent orders of one run (for example harmful and harmless).
std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch, uint64_t stream);

// Owns the AdamW state of one adapter of `model`. Not thread-safe.
// The state file is a LibTorch archive with the adapter tensors, the AdamW moments and step count,
// the finished steps and the caller's extra tensors.
class AdapterOptimizer {
 public:
  static absl::StatusOr<std::unique_ptr<AdapterOptimizer>> Create(model::Transformer model,
                                                                  std::string adapter,
                                                                  OptimizerOptions options);

  void ZeroGrad();

  // Clips, sets the scheduled rate of 0-based step `step` and applies one update. Returns the
  // gradient norm before clipping.
  double Step(int64_t step);

  double LearningRateAt(int64_t step) const { return schedule_.LearningRateAt(step); }

  // Writes adapter, optimizer state, `finished_steps` and `extra` tensors to `path`.
  absl::Status SaveState(const std::string& path, int64_t finished_steps,
                         const std::map<std::string, torch::Tensor>& extra) const;

  // Restores what SaveState wrote into the live adapter and optimizer. Returns finished_steps;
  // `extra` receives the saved extra tensors.
  absl::StatusOr<int64_t> RestoreState(const std::string& path,
                                       std::map<std::string, torch::Tensor>* extra);

  const OptimizerOptions& options() const { return options_; }

 private:
  AdapterOptimizer(model::Transformer model, std::string adapter, OptimizerOptions options,
                   model::LearningRateSchedule schedule,
                   std::vector<std::pair<std::string, torch::Tensor>> parameters);

  model::Transformer model_;
  std::string adapter_;
  OptimizerOptions options_;
  model::LearningRateSchedule schedule_;
  model::AdamW optimizer_;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_ADAPTER_OPTIMIZER_H_
