#include "core/method/refusal_feature.h"

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace reftune::method {

absl::StatusOr<std::vector<torch::Tensor>> ComputePromptFeatures(
    model::Transformer& model, const std::vector<EncodedExample>& prompts,
    const FeatureOptions& options) {
  if (options.layers.empty()) {
    return absl::InvalidArgumentError("feature layers are empty; name at least one block");
  }
  for (int64_t layer : options.layers) {
    if (layer < 0 || layer >= model->config().n_layers) {
      return absl::InvalidArgumentError(absl::StrCat("feature layer ", layer, " must be in [0, ",
                                                     model->config().n_layers, ")"));
    }
  }
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature batch_size must be >= 1, got ", options.batch_size));
  }

  torch::NoGradGuard no_grad;
  model::ForwardOptions forward;
  forward.adapter = options.adapter;
  forward.hidden_layers = options.layers;
  forward.compute_logits = false;

  std::vector<std::vector<torch::Tensor>> chunks(options.layers.size());
  const int64_t total = static_cast<int64_t>(prompts.size());
  for (int64_t start = 0; start < total; start += options.batch_size) {
    std::vector<int64_t> indices(std::min(options.batch_size, total - start));
    std::iota(indices.begin(), indices.end(), start);
    const TokenBatch batch = MakeTokenBatch(prompts, indices, model->device());
    absl::StatusOr<model::ForwardOutput> output =
        model->Forward(batch.input_ids, batch.attention_mask, forward);
    if (!output.ok()) {
      return absl::Status(output.status().code(),
                          absl::StrCat("prompt features of examples from ", start, ": ",
                                       output.status().message()));
    }
    for (size_t i = 0; i < options.layers.size(); ++i) {
      chunks[i].push_back(
          GatherLastPromptStates(output->hidden_states[i], batch).to(torch::kFloat32));
    }
  }

  std::vector<torch::Tensor> features;
  for (size_t i = 0; i < options.layers.size(); ++i) {
    features.push_back(chunks[i].empty()
                           ? torch::zeros({0, model->config().dim}, torch::kFloat32)
                           : torch::cat(chunks[i], 0));
  }
  return features;
}

absl::StatusOr<torch::Tensor> RefusalFeatureFromFeatures(const torch::Tensor& harmful_features,
                                                         const torch::Tensor& harmless_features) {
  if (harmful_features.dim() != 2 || harmful_features.size(0) == 0) {
    return absl::InvalidArgumentError(
        "refusal feature needs at least one harmful prompt feature row");
  }
  if (harmless_features.dim() != 2 || harmless_features.size(0) == 0) {
    return absl::InvalidArgumentError(
        "refusal feature needs at least one harmless prompt feature row");
  }
  if (harmful_features.size(1) != harmless_features.size(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusal feature: harmful features have width ", harmful_features.size(1),
        " but harmless features have width ", harmless_features.size(1)));
  }
  return harmful_features.mean(0) - harmless_features.mean(0);
}

torch::Tensor RefusalCosine(const torch::Tensor& features, const torch::Tensor& refusal) {
  return torch::nn::functional::cosine_similarity(
      features, refusal.to(features.device()).unsqueeze(0).expand_as(features),
      torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
}

}  // namespace reftune::method
