// Prompt features f^l(x) and the refusal feature R^l = mean f^l(x_harmful) - mean f^l(x_harmless).
#ifndef REFTUNE_CORE_METHOD_REFUSAL_FEATURE_H_
#define REFTUNE_CORE_METHOD_REFUSAL_FEATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/method/token_batch.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct FeatureOptions {
  // LoRA adapter to run with; empty runs the base model.
  std::string adapter;
  // Blocks (0-based) whose residual output is read. Only blocks up to the highest one are run.
  std::vector<int64_t> layers;
  // Prompts per forward pass.
  int64_t batch_size = 64;
};

// Runs `model` on prompt-only examples in batches without gradients and returns, for each entry of
// options.layers, a [examples, dim] float32 tensor of residual states at the last prompt token.
// Errors from the forward pass are returned with the batch's first example index.
absl::StatusOr<std::vector<torch::Tensor>> ComputePromptFeatures(
    model::Transformer& model, const std::vector<EncodedExample>& prompts,
    const FeatureOptions& options);

// Returns mean(harmful_features, 0) - mean(harmless_features, 0) as a [dim] tensor.
// INVALID_ARGUMENT when either set is empty or the widths differ.
absl::StatusOr<torch::Tensor> RefusalFeatureFromFeatures(const torch::Tensor& harmful_features,
                                                         const torch::Tensor& harmless_features);

// Cosine similarity of each row of `features` ([n, dim]) with `refusal` ([dim]): [n].
torch::Tensor RefusalCosine(const torch::Tensor& features, const torch::Tensor& refusal);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_REFUSAL_FEATURE_H_
