// Base models in memory, shared by every teacher and generation call of the same base.
#ifndef REFTUNE_SERVICES_FILTER_BASE_MODEL_REGISTRY_H_
#define REFTUNE_SERVICES_FILTER_BASE_MODEL_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"
#include "services/filter/base_model_spec.h"

namespace reftune::filter {

// One base model's frozen weights with any number of named adapters installed.
//
// Thread safety: hold adapters_mutex() shared while running forward passes, and exclusively while
// adding or removing an adapter, because the Transformer allows no adapter change during a
// forward pass.
class SharedBaseModel {
 public:
  SharedBaseModel(BaseModelSpec spec, model::Transformer model,
                  std::shared_ptr<const model::Tokenizer> tokenizer)
      : spec_(std::move(spec)), model_(std::move(model)), tokenizer_(std::move(tokenizer)) {}

  // Returns an adapter name that no other caller of this model receives: `prefix`-<counter>.
  std::string UniqueAdapterName(const std::string& prefix);

  const BaseModelSpec& spec() const { return spec_; }
  model::Transformer model() const { return model_; }
  const std::shared_ptr<const model::Tokenizer>& tokenizer() const { return tokenizer_; }
  std::shared_mutex& adapters_mutex() const { return adapters_mutex_; }

 private:
  BaseModelSpec spec_;
  model::Transformer model_;
  std::shared_ptr<const model::Tokenizer> tokenizer_;
  mutable std::shared_mutex adapters_mutex_;
  std::atomic<int64_t> adapter_counter_{0};
};

// Hands out SharedBaseModel instances by BaseModelSpec::Key. A model stays in memory while a
// caller holds it; the registry itself keeps only the most recently acquired one, so that
// consecutive generation calls do not reload it. Thread-safe.
class BaseModelRegistry {
 public:
  explicit BaseModelRegistry(torch::Device device = torch::kCPU) : device_(device) {}

  // Returns the model for `spec`, loading it when nobody holds it. Loads are serialised, so
  // concurrent calls for one base load it once.
  absl::StatusOr<std::shared_ptr<SharedBaseModel>> Acquire(const BaseModelSpec& spec);

  // Loads a private copy of the model for `spec` that no other caller shares, for work that
  // changes the base weights (merging an adapter).
  absl::StatusOr<std::shared_ptr<SharedBaseModel>> LoadUnshared(const BaseModelSpec& spec);

  // Base models loaded from disk since construction, private copies included.
  int64_t loads() const { return loads_.load(); }

 private:
  torch::Device device_;
  // Held during a load, so that two calls never load the same base twice.
  std::mutex load_mutex_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<SharedBaseModel>> models_;
  std::shared_ptr<SharedBaseModel> most_recent_;
  std::atomic<int64_t> loads_{0};
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_BASE_MODEL_REGISTRY_H_
