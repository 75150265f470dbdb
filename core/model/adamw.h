// AdamW over named tensors, with moments that can be saved and restored exactly.
#ifndef REFTUNE_CORE_MODEL_ADAMW_H_
#define REFTUNE_CORE_MODEL_ADAMW_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"

namespace reftune::model {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // Decoupled weight decay: each step multiplies parameters by 1 - learning_rate * weight_decay.
  double weight_decay = 0.0;
};

// AdamW (Loshchilov and Hutter), with the same update and bias correction as torch.optim.AdamW
// (PyTorch 1.13). It updates only the tensors it is given, typically an adapter's lora_A and
// lora_B. Not thread-safe.
class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options);

  // Applies one update with `learning_rate` to every parameter that has a gradient.
  void Step(double learning_rate);
  // Resets the gradients of all parameters to undefined.
  void ZeroGrad();

  // Updates done so far (the bias-correction step t).
  int64_t step_count() const { return step_count_; }

  // The moments as "<name>.exp_avg" and "<name>.exp_avg_sq", live tensors.
  std::map<std::string, torch::Tensor> StateTensors() const;
  // Restores moments saved by StateTensors and the step count; every moment must be present
  // with its parameter's shape.
  absl::Status LoadState(const std::map<std::string, torch::Tensor>& state, int64_t step_count);

  const std::vector<std::pair<std::string, torch::Tensor>>& parameters() const {
    return parameters_;
  }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> parameters_;
  std::vector<torch::Tensor> exp_avg_;
  std::vector<torch::Tensor> exp_avg_sq_;
  AdamWOptions options_;
  int64_t step_count_ = 0;
};

// Scales all gradients by max_norm / total_norm when their global L2 norm exceeds max_norm, as
// torch.nn.utils.clip_grad_norm_. Returns the norm before clipping. Tensors without a gradient
// are skipped.
double ClipGradientNorm(const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                        double max_norm);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_ADAMW_H_
