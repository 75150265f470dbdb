// A frozen linear projection with any number of named LoRA adapters.
#ifndef REFTUNE_CORE_MODEL_LORA_LINEAR_H_
#define REFTUNE_CORE_MODEL_LORA_LINEAR_H_

#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include "core/model/forward_options.h"

namespace reftune::model {

struct LoraLinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
};

// One adapter on one projection: y += scaling * dropout(x) A^T B^T.
struct LoraAdapter {
  // [r, in_features], trainable.
  torch::Tensor lora_a;
  // [out_features, r], trainable.
  torch::Tensor lora_b;
  // lora_alpha / r.
  double scaling = 1.0;
  // Probability of zeroing an input element of the adapter path when dropout is applied.
  double dropout = 0.0;
  // True while B A is added into the base weight; forward then skips the adapter path.
  bool merged = false;
};

// y = x W^T (no bias, as in Llama) plus the active adapter's low-rank update. W is frozen
// (requires_grad false), so backward computes input gradients through it but no weight gradient.
//
// Thread safety: forward may run from several threads at once, each with its own adapter.
// AddAdapter, RemoveAdapter, MergeAdapter and UnmergeAdapter change shared state and must not
// overlap any other call.
class LoraLinearImpl : public torch::nn::Module {
 public:
  explicit LoraLinearImpl(LoraLinearOptions options);

  // Re-creates the base weight with N(0, 0.02) values and drops all adapters.
  void reset();

  // x: [tokens, in_features]. Applies options.adapter when this projection has it.
  torch::Tensor forward(const torch::Tensor& x, const ForwardOptions& options);

  // Stores `adapter` under `name`, replacing an adapter of that name. The caller checks shapes.
  void AddAdapter(const std::string& name, LoraAdapter adapter);
  void RemoveAdapter(const std::string& name);
  // Returns the adapter, or nullptr when this projection has none of that name.
  LoraAdapter* FindAdapter(const std::string& name);
  const LoraAdapter* FindAdapter(const std::string& name) const;

  // Adds scaling * B A into the base weight (no-op when already merged).
  void MergeAdapter(const std::string& name);
  // Subtracts scaling * B A from the base weight (no-op when not merged).
  void UnmergeAdapter(const std::string& name);

  const LoraLinearOptions& options() const { return options_; }

  // [out_features, in_features], requires_grad false.
  torch::Tensor weight;

 private:
  LoraLinearOptions options_;
  std::map<std::string, LoraAdapter> adapters_;
};
TORCH_MODULE(LoraLinear);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_LORA_LINEAR_H_
