#include "core/method/adapter_optimizer.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace reftune::method {
namespace {

constexpr char kStepKey[] = "finished_steps";
constexpr char kAdapterPrefix[] = "adapter/";
constexpr char kExtraPrefix[] = "extra/";

}  // namespace

double ScheduledLearningRate(const OptimizerOptions& options, int64_t step) {
  if (options.warmup_steps > 0 && step < options.warmup_steps) {
    return options.learning_rate * static_cast<double>(step + 1) / options.warmup_steps;
  }
  const int64_t decay_steps = std::max<int64_t>(1, options.total_steps - options.warmup_steps);
  const double remaining =
      1.0 - static_cast<double>(step - options.warmup_steps) / static_cast<double>(decay_steps);
  return options.learning_rate * std::clamp(remaining, 0.0, 1.0);
}

std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch, uint64_t stream) {
  std::vector<int64_t> order(std::max<int64_t>(0, n));
  std::iota(order.begin(), order.end(), 0);
  std::seed_seq seeds{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(epoch), static_cast<uint32_t>(stream)};
  std::mt19937_64 generator(seeds);
  // std::shuffle's output depends on the library; this Fisher-Yates loop does not.
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(generator() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

absl::StatusOr<std::unique_ptr<AdapterOptimizer>> AdapterOptimizer::Create(
    model::Transformer model, std::string adapter, OptimizerOptions options) {
  if (!(options.learning_rate > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate must be > 0, got ", options.learning_rate));
  }
  if (options.total_steps < 1 || options.warmup_steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "total_steps must be >= 1 and warmup_steps >= 0, got ", options.total_steps, " and ",
        options.warmup_steps));
  }
  REFTUNE_ASSIGN_OR_RETURN(auto parameters, model->AdapterParameters(adapter));
  return std::unique_ptr<AdapterOptimizer>(new AdapterOptimizer(
      std::move(model), std::move(adapter), options, std::move(parameters)));
}

AdapterOptimizer::AdapterOptimizer(model::Transformer model, std::string adapter,
                                   OptimizerOptions options,
                                   std::vector<std::pair<std::string, torch::Tensor>> parameters)
    : model_(std::move(model)),
      adapter_(std::move(adapter)),
      options_(options),
      named_parameters_(std::move(parameters)) {
  for (const auto& [name, tensor] : named_parameters_) parameters_.push_back(tensor);
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      parameters_, torch::optim::AdamWOptions(options_.learning_rate)
                       .weight_decay(options_.weight_decay));
}

void AdapterOptimizer::ZeroGrad() { optimizer_->zero_grad(); }

double AdapterOptimizer::Step(int64_t step) {
  double norm = 0.0;
  if (options_.max_grad_norm > 0.0) {
    norm = torch::nn::utils::clip_grad_norm_(parameters_, options_.max_grad_norm);
  } else {
    double squares = 0.0;
    for (const torch::Tensor& parameter : parameters_) {
      if (parameter.grad().defined()) squares += parameter.grad().pow(2).sum().item<double>();
    }
    norm = std::sqrt(squares);
  }
  const double rate = LearningRateAt(step);
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(rate);
  optimizer_->step();
  return norm;
}

absl::Status AdapterOptimizer::SaveState(const std::string& path, int64_t finished_steps,
                                         const std::map<std::string, torch::Tensor>& extra) const {
  try {
    torch::serialize::OutputArchive archive;
    archive.write(kStepKey, torch::tensor(finished_steps, torch::kInt64));
    for (const auto& [name, tensor] : named_parameters_) {
      archive.write(std::string(kAdapterPrefix) + name, tensor.detach().cpu());
    }
    for (const auto& [name, tensor] : extra) {
      archive.write(std::string(kExtraPrefix) + name, tensor.detach().cpu());
    }
    torch::serialize::OutputArchive optimizer_archive;
    optimizer_->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    archive.save_to(path);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("saving training state of adapter \"", adapter_,
                                            "\" to ", path, " failed: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> AdapterOptimizer::RestoreState(
    const std::string& path, std::map<std::string, torch::Tensor>* extra) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor step;
    archive.read(kStepKey, step);
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, tensor] : named_parameters_) {
        torch::Tensor saved;
        archive.read(std::string(kAdapterPrefix) + name, saved);
        if (!saved.sizes().equals(tensor.sizes())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "training state ", path, " holds ", name, " with shape ", c10::str(saved.sizes()),
              " but the adapter has ", c10::str(tensor.sizes()),
              "; resume with the configuration the run started with"));
        }
        tensor.copy_(saved);
      }
    }
    if (extra != nullptr) {
      for (const std::string& key : archive.keys()) {
        if (key.rfind(kExtraPrefix, 0) != 0) continue;
        torch::Tensor saved;
        archive.read(key, saved);
        (*extra)[key.substr(sizeof(kExtraPrefix) - 1)] = saved;
      }
    }
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer_->load(optimizer_archive);
    return step.item<int64_t>();
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("reading training state ", path,
                                                   " failed: ", e.what_without_backtrace()));
  }
}

}  // namespace reftune::method
