// Adapter management of TransformerImpl: adding, importing, exporting and merging LoRA adapters.
#include <cmath>
#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/transformer.h"

namespace reftune::model {
namespace {

const std::set<std::string>& KnownTargetModules() {
  static const std::set<std::string> modules = {"q_proj",    "k_proj",  "v_proj", "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
  return modules;
}

std::string ShapeString(at::IntArrayRef sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes.vec(), ", "), "]");
}

// "self_attn.q_proj" -> "q_proj".
std::string ModuleName(const std::string& path) { return path.substr(path.find('.') + 1); }

}  // namespace

std::string PeftAdapterKey(int64_t layer, const std::string& projection_path, char matrix) {
  return absl::StrCat("base_model.model.model.layers.", layer, ".", projection_path, ".lora_",
                      std::string(1, matrix), ".weight");
}

absl::Status ValidateLoraConfig(const LoraConfig& config) {
  if (config.r < 1) {
    return absl::InvalidArgumentError(absl::StrCat("lora r must be at least 1, got ", config.r));
  }
  if (!(config.lora_alpha > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lora_alpha must be positive, got ", config.lora_alpha));
  }
  if (!(config.lora_dropout >= 0 && config.lora_dropout < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lora_dropout must be in [0, 1), got ", config.lora_dropout));
  }
  if (config.target_modules.empty()) {
    return absl::InvalidArgumentError("lora target_modules must name at least one projection");
  }
  for (const std::string& module : config.target_modules) {
    if (KnownTargetModules().count(module) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lora target_modules entry \"", module, "\" is not one of ",
          absl::StrJoin(KnownTargetModules(), ", ")));
    }
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, LoraLinear>> TransformerImpl::TargetProjections(
    const LoraConfig& config) const {
  std::set<std::string> targets(config.target_modules.begin(), config.target_modules.end());
  std::vector<std::pair<std::string, LoraLinear>> projections;
  for (int64_t layer = 0; layer < options_.config.n_layers; ++layer) {
    for (const auto& [path, projection] : Block(layer)->Projections()) {
      if (targets.count(ModuleName(path)) == 0) continue;
      // The key without its ".lora_A.weight" ending.
      std::string key = PeftAdapterKey(layer, path, 'A');
      key.resize(key.size() - std::string(".lora_A.weight").size());
      projections.emplace_back(std::move(key), projection);
    }
  }
  return projections;
}

absl::Status TransformerImpl::AddAdapter(const std::string& name, const LoraConfig& config,
                                         uint64_t seed) {
  if (name.empty()) return absl::InvalidArgumentError("adapter name must not be empty");
  if (HasAdapter(name)) {
    return absl::AlreadyExistsError(absl::StrCat("adapter \"", name, "\" already exists"));
  }
  auto status = ValidateLoraConfig(config);
  if (!status.ok()) return status;

  // Initialised on the CPU from one seeded generator, so every device gets the same values.
  at::Generator generator = at::detail::createCPUGenerator(seed);
  try {
    for (auto& [key, projection] : TargetProjections(config)) {
      const int64_t in = projection->options().in_features;
      const int64_t out = projection->options().out_features;
      // kaiming_uniform_(a = sqrt(5)) has bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      LoraAdapter adapter;
      adapter.lora_a = torch::empty({config.r, in}).uniform_(-bound, bound, generator);
      adapter.lora_a = adapter.lora_a.to(options_.device).set_requires_grad(true);
      adapter.lora_b = torch::zeros({out, config.r}, torch::TensorOptions().device(options_.device))
                           .set_requires_grad(true);
      adapter.scaling = config.scaling();
      adapter.dropout = config.lora_dropout;
      projection->AddAdapter(name, std::move(adapter));
    }
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat("creating adapter \"", name, "\" failed: ",
                                            error.what_without_backtrace()));
  }
  adapters_[name] = config;
  return absl::OkStatus();
}

absl::Status TransformerImpl::ValidateAdapterTensors(
    const std::string& name, const LoraConfig& config,
    const std::map<std::string, torch::Tensor>& tensors) const {
  std::set<std::string> expected_keys;
  for (const auto& [key, projection] : TargetProjections(config)) {
    const std::pair<char, std::vector<int64_t>> matrices[] = {
        {'A', {config.r, projection->options().in_features}},
        {'B', {projection->options().out_features, config.r}}};
    for (const auto& [matrix, shape] : matrices) {
      const std::string full_key = absl::StrCat(key, ".lora_", std::string(1, matrix), ".weight");
      expected_keys.insert(full_key);
      auto it = tensors.find(full_key);
      if (it == tensors.end()) {
        return absl::InvalidArgumentError(absl::StrCat("adapter \"", name, "\" misses tensor ",
                                                       full_key, ", expected shape ",
                                                       ShapeString(shape)));
      }
      if (!it->second.sizes().equals(shape)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "adapter \"", name, "\" tensor ", full_key, " has shape ",
            ShapeString(it->second.sizes()), ", expected ", ShapeString(shape), " for r ",
            config.r));
      }
    }
  }
  for (const auto& [key, tensor] : tensors) {
    if (expected_keys.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "adapter \"", name, "\" has unexpected tensor ", key, "; target_modules are ",
          absl::StrJoin(config.target_modules, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::Status TransformerImpl::ImportAdapter(
    const std::string& name, const LoraConfig& config,
    const std::map<std::string, torch::Tensor>& peft_tensors) {
  auto status = ValidateLoraConfig(config);
  if (!status.ok()) return status;
  status = ValidateAdapterTensors(name, config, peft_tensors);
  if (!status.ok()) return status;
  status = AddAdapter(name, config, /*seed=*/0);
  if (!status.ok()) return status;
  return LoadAdapterTensors(name, peft_tensors);
}

absl::Status TransformerImpl::LoadAdapterTensors(
    const std::string& name, const std::map<std::string, torch::Tensor>& peft_tensors) {
  const LoraConfig* config = FindAdapterConfig(name);
  if (config == nullptr) {
    return absl::NotFoundError(absl::StrCat("adapter \"", name, "\" not found"));
  }
  auto status = ValidateAdapterTensors(name, *config, peft_tensors);
  if (!status.ok()) return status;

  torch::NoGradGuard no_grad;
  try {
    for (auto& [key, projection] : TargetProjections(*config)) {
      LoraAdapter* adapter = projection->FindAdapter(name);
      if (adapter->merged) {
        return absl::FailedPreconditionError(
            absl::StrCat("adapter \"", name, "\" is merged; unmerge it before loading tensors"));
      }
      adapter->lora_a.copy_(peft_tensors.at(key + ".lora_A.weight"));
      adapter->lora_b.copy_(peft_tensors.at(key + ".lora_B.weight"));
    }
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat("loading tensors of adapter \"", name,
                                            "\" failed: ", error.what_without_backtrace()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>>
TransformerImpl::AdapterParameters(const std::string& name) const {
  const LoraConfig* config = FindAdapterConfig(name);
  if (config == nullptr) {
    return absl::NotFoundError(absl::StrCat("adapter \"", name, "\" not found"));
  }
  std::vector<std::pair<std::string, torch::Tensor>> parameters;
  for (const auto& [key, projection] : TargetProjections(*config)) {
    const LoraAdapter* adapter = projection->FindAdapter(name);
    parameters.emplace_back(key + ".lora_A.weight", adapter->lora_a);
    parameters.emplace_back(key + ".lora_B.weight", adapter->lora_b);
  }
  return parameters;
}

absl::StatusOr<std::map<std::string, torch::Tensor>> TransformerImpl::ExportAdapter(
    const std::string& name) const {
  auto parameters = AdapterParameters(name);
  if (!parameters.ok()) return parameters.status();
  std::map<std::string, torch::Tensor> exported;
  for (const auto& [key, tensor] : *parameters) {
    exported[key] = tensor.detach().to(torch::kCPU, torch::kFloat32).clone();
  }
  return exported;
}

absl::Status TransformerImpl::RemoveAdapter(const std::string& name) {
  const LoraConfig* config = FindAdapterConfig(name);
  if (config == nullptr) {
    return absl::NotFoundError(absl::StrCat("adapter \"", name, "\" not found"));
  }
  for (auto& [key, projection] : TargetProjections(*config)) projection->RemoveAdapter(name);
  adapters_.erase(name);
  return absl::OkStatus();
}

absl::Status TransformerImpl::MergeAdapter(const std::string& name) {
  const LoraConfig* config = FindAdapterConfig(name);
  if (config == nullptr) {
    return absl::NotFoundError(absl::StrCat("adapter \"", name, "\" not found"));
  }
  for (auto& [key, projection] : TargetProjections(*config)) projection->MergeAdapter(name);
  return absl::OkStatus();
}

absl::Status TransformerImpl::UnmergeAdapter(const std::string& name) {
  const LoraConfig* config = FindAdapterConfig(name);
  if (config == nullptr) {
    return absl::NotFoundError(absl::StrCat("adapter \"", name, "\" not found"));
  }
  for (auto& [key, projection] : TargetProjections(*config)) projection->UnmergeAdapter(name);
  return absl::OkStatus();
}

const LoraConfig* TransformerImpl::FindAdapterConfig(const std::string& name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : &it->second;
}

std::vector<std::string> TransformerImpl::AdapterNames() const {
  std::vector<std::string> names;
  for (const auto& [name, config] : adapters_) names.push_back(name);
  return names;
}

}  // namespace reftune::model
