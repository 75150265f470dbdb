#include "services/filter/base_model_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace reftune::filter {

std::string SharedBaseModel::UniqueAdapterName(const std::string& prefix) {
  return absl::StrCat(prefix, "-", adapter_counter_.fetch_add(1));
}

absl::StatusOr<std::shared_ptr<SharedBaseModel>> BaseModelRegistry::Acquire(
    const BaseModelSpec& spec) {
  const std::string key = spec.Key();
  auto find_loaded = [&]() -> std::shared_ptr<SharedBaseModel> {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(key);
    if (it == models_.end()) return nullptr;
    std::shared_ptr<SharedBaseModel> model = it->second.lock();
    if (model == nullptr) {
      models_.erase(it);
      return nullptr;
    }
    most_recent_ = model;
    return model;
  };
  if (auto model = find_loaded()) return model;

  std::lock_guard<std::mutex> load_lock(load_mutex_);
  // Another caller may have loaded it while this one waited for the load lock.
  if (auto model = find_loaded()) return model;

  absl::StatusOr<std::shared_ptr<SharedBaseModel>> model = LoadUnshared(spec);
  if (!model.ok()) return model.status();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    models_[key] = *model;
    most_recent_ = *model;
  }
  return model;
}

absl::StatusOr<std::shared_ptr<SharedBaseModel>> BaseModelRegistry::LoadUnshared(
    const BaseModelSpec& spec) {
  absl::StatusOr<model::Checkpoint> checkpoint = LoadBaseCheckpoint(spec);
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<model::Transformer> transformer;
  try {
    transformer = model::CreateTransformer(*checkpoint, device_);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("building base model \"", spec.name,
                                            "\" failed: ", e.what_without_backtrace()));
  }
  if (!transformer.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "building base model \"", spec.name, "\" failed: ", transformer.status().message()));
  }
  transformer.value()->eval();

  auto model = std::make_shared<SharedBaseModel>(spec, *transformer, checkpoint->tokenizer);
  loads_.fetch_add(1);
  LOG(INFO) << "Loaded base model \"" << spec.name << "\" from " << spec.path << " ("
            << model->model()->BaseParameterCount() << " parameters)";
  return model;
}

}  // namespace reftune::filter
