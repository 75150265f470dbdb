#include "core/method/prompt_filter.h"

#include <utility>

#include "core/common/status_macros.h"
#include "core/method/layer_calibration.h"
#include "core/method/refusal_feature.h"

namespace reftune::method {

PromptFilter::PromptFilter(model::Transformer model,
                           std::shared_ptr<const model::Tokenizer> tokenizer,
                           const TeacherArtifact& teacher, PromptFilterOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      prompt_template_(teacher.prompt_template),
      refusal_feature_(teacher.refusal_feature.to(model_->device(), torch::kFloat32)),
      layer_(teacher.layer),
      threshold_(options.threshold.value_or(teacher.threshold)),
      options_(std::move(options)) {}

absl::StatusOr<std::vector<FilterDecision>> PromptFilter::Score(
    const std::vector<std::string>& prompts) const {
  std::vector<EncodedExample> examples;
  examples.reserve(prompts.size());
  for (const std::string& prompt : prompts) {
    data::Record record;
    record.prompt = prompt;
    REFTUNE_ASSIGN_OR_RETURN(EncodedExample example,
                             EncodeExample(*tokenizer_, prompt_template_, record,
                                           /*with_answer=*/false, options_.encode));
    examples.push_back(std::move(example));
  }

  FeatureOptions feature_options;
  feature_options.adapter = options_.adapter;
  feature_options.layers = {layer_};
  feature_options.batch_size = options_.batch_size;
  model::Transformer model = model_;
  REFTUNE_ASSIGN_OR_RETURN(auto features, ComputePromptFeatures(model, examples, feature_options));
  const torch::Tensor cosines =
      RefusalCosine(features.front(), refusal_feature_).to(torch::kCPU, torch::kFloat64);

  const torch::Tensor contiguous = cosines.contiguous();
  const double* values = contiguous.data_ptr<double>();
  std::vector<FilterDecision> decisions(prompts.size());
  for (size_t i = 0; i < decisions.size(); ++i) {
    decisions[i].cosine = values[i];
    decisions[i].filtered = IsFiltered(decisions[i].cosine, threshold_);
  }
  return decisions;
}

}  // namespace reftune::method
