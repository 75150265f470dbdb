#include "core/model/adamw.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::model {

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options)
    : parameters_(std::move(parameters)), options_(options) {
  for (const auto& [name, parameter] : parameters_) {
    exp_avg_.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Contiguous));
    exp_avg_sq_.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Contiguous));
  }
}

void AdamW::Step(double learning_rate) {
  torch::NoGradGuard no_grad;
  ++step_count_;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, step_count_);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, step_count_);
  const double step_size = learning_rate / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);

  for (size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& parameter = parameters_[i].second;
    const torch::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    if (options_.weight_decay != 0.0) parameter.mul_(1.0 - learning_rate * options_.weight_decay);
    exp_avg_[i].lerp_(grad, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    torch::Tensor denominator = (exp_avg_sq_[i].sqrt() / bias_correction2_sqrt).add_(options_.eps);
    parameter.addcdiv_(exp_avg_[i], denominator, -step_size);
  }
}

void AdamW::ZeroGrad() {
  for (auto& [name, parameter] : parameters_) parameter.mutable_grad() = torch::Tensor();
}

std::map<std::string, torch::Tensor> AdamW::StateTensors() const {
  std::map<std::string, torch::Tensor> state;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    state[parameters_[i].first + ".exp_avg"] = exp_avg_[i];
    state[parameters_[i].first + ".exp_avg_sq"] = exp_avg_sq_[i];
  }
  return state;
}

absl::Status AdamW::LoadState(const std::map<std::string, torch::Tensor>& state,
                              int64_t step_count) {
  if (step_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AdamW step count must be >= 0, got ", step_count));
  }
  if (state.size() != 2 * parameters_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("AdamW state has ", state.size(),
                                                   " tensors, expected ",
                                                   2 * parameters_.size()));
  }
  // Check everything before changing anything, so a bad state leaves the optimizer as it was.
  for (size_t i = 0; i < parameters_.size(); ++i) {
    for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) {
      const std::string key = parameters_[i].first + suffix;
      auto it = state.find(key);
      if (it == state.end()) {
        return absl::InvalidArgumentError(absl::StrCat("AdamW state misses tensor ", key));
      }
      if (!it->second.sizes().equals(parameters_[i].second.sizes())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "AdamW state tensor ", key, " has shape [", absl::StrJoin(it->second.sizes().vec(), ", "),
            "], expected [", absl::StrJoin(parameters_[i].second.sizes().vec(), ", "), "]"));
      }
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    exp_avg_[i].copy_(state.at(parameters_[i].first + ".exp_avg"));
    exp_avg_sq_[i].copy_(state.at(parameters_[i].first + ".exp_avg_sq"));
  }
  step_count_ = step_count;
  return absl::OkStatus();
}

double ClipGradientNorm(const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                        double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& [name, parameter] : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().norm(2).to(torch::kFloat64));
  }
  if (norms.empty()) return 0.0;
  const double total_norm = torch::stack(norms).norm(2).item<double>();
  // The same epsilon as torch.nn.utils.clip_grad_norm_.
  const double clip = max_norm / (total_norm + 1e-6);
  if (clip < 1.0) {
    for (const auto& [name, parameter] : parameters) {
      if (parameter.grad().defined()) parameter.grad().mul_(clip);
    }
  }
  return total_norm;
}

}  // namespace reftune::model
