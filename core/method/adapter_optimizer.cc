#include "core/method/adapter_optimizer.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace reftune::method {
namespace {

constexpr char kFinishedStepsKey[] = "finished_steps";
constexpr char kAdamStepKey[] = "adamw_step";
constexpr char kAdapterPrefix[] = "adapter/";
constexpr char kMomentPrefix[] = "adamw/";
constexpr char kExtraPrefix[] = "extra/";

}  // namespace

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
  model::LearningRateSchedule schedule;
  schedule.peak_learning_rate = options.learning_rate;
  schedule.warmup_steps = options.warmup_steps;
  schedule.total_steps = options.total_steps;
  schedule.decay = model::LearningRateDecay::kLinear;
  schedule.final_fraction = 0.0;
  REFTUNE_RETURN_IF_ERROR(schedule.Validate());
  REFTUNE_ASSIGN_OR_RETURN(auto parameters, model->AdapterParameters(adapter));
  return std::unique_ptr<AdapterOptimizer>(new AdapterOptimizer(
      std::move(model), std::move(adapter), options, schedule, std::move(parameters)));
}

AdapterOptimizer::AdapterOptimizer(model::Transformer model, std::string adapter,
                                   OptimizerOptions options, model::LearningRateSchedule schedule,
                                   std::vector<std::pair<std::string, torch::Tensor>> parameters)
    : model_(std::move(model)),
      adapter_(std::move(adapter)),
      options_(options),
      schedule_(schedule),
      optimizer_(std::move(parameters), model::AdamWOptions{.weight_decay = options.weight_decay}) {}

void AdapterOptimizer::ZeroGrad() { optimizer_.ZeroGrad(); }

double AdapterOptimizer::Step(int64_t step) {
  const double max_norm =
      options_.max_grad_norm > 0.0 ? options_.max_grad_norm : std::numeric_limits<double>::max();
  const double norm = model::ClipGradientNorm(optimizer_.parameters(), max_norm);
  optimizer_.Step(LearningRateAt(step));
  return norm;
}

absl::Status AdapterOptimizer::SaveState(const std::string& path, int64_t finished_steps,
                                         const std::map<std::string, torch::Tensor>& extra) const {
  try {
    torch::serialize::OutputArchive archive;
    archive.write(kFinishedStepsKey, torch::tensor(finished_steps, torch::kInt64));
    archive.write(kAdamStepKey, torch::tensor(optimizer_.step_count(), torch::kInt64));
    for (const auto& [name, tensor] : optimizer_.parameters()) {
      archive.write(std::string(kAdapterPrefix) + name, tensor.detach().cpu());
    }
    for (const auto& [name, tensor] : optimizer_.StateTensors()) {
      archive.write(std::string(kMomentPrefix) + name, tensor.detach().cpu());
    }
    for (const auto& [name, tensor] : extra) {
      archive.write(std::string(kExtraPrefix) + name, tensor.detach().cpu());
    }
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
    torch::Tensor finished_steps;
    torch::Tensor adam_step;
    archive.read(kFinishedStepsKey, finished_steps);
    archive.read(kAdamStepKey, adam_step);

    torch::NoGradGuard no_grad;
    for (const auto& [name, tensor] : optimizer_.parameters()) {
      torch::Tensor saved;
      archive.read(std::string(kAdapterPrefix) + name, saved);
      if (!saved.sizes().equals(tensor.sizes())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "training state ", path, " holds ", name, " with shape ", c10::str(saved.sizes()),
            " but the adapter has ", c10::str(tensor.sizes()),
            "; resume with the configuration the run started with"));
      }
      torch::Tensor live = tensor;
      live.copy_(saved);
    }

    std::map<std::string, torch::Tensor> moments;
    for (const std::string& key : archive.keys()) {
      torch::Tensor saved;
      if (key.rfind(kMomentPrefix, 0) == 0) {
        archive.read(key, saved);
        moments[key.substr(sizeof(kMomentPrefix) - 1)] = saved.to(model_->device());
      } else if (extra != nullptr && key.rfind(kExtraPrefix, 0) == 0) {
        archive.read(key, saved);
        (*extra)[key.substr(sizeof(kExtraPrefix) - 1)] = saved;
      }
    }
    REFTUNE_RETURN_IF_ERROR(optimizer_.LoadState(moments, adam_step.item<int64_t>()));
    return finished_steps.item<int64_t>();
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("reading training state ", path,
                                                   " failed: ", e.what_without_backtrace()));
  }
}

}  // namespace reftune::method
