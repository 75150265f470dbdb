#include "core/method/layer_calibration.h"

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/refusal_feature.h"

namespace reftune::method {
namespace {

nlohmann::json QualityToJson(const eval::FilterQuality& quality) {
  auto value = [](const std::optional<double>& metric) -> nlohmann::json {
    return metric.has_value() ? nlohmann::json(*metric) : nlohmann::json(nullptr);
  };
  return {{"precision", value(quality.precision)},
          {"recall", value(quality.recall)},
          {"f1", value(quality.f1)},
          {"false_positive_rate", value(quality.false_positive_rate)},
          {"true_positives", quality.true_positives},
          {"false_positives", quality.false_positives},
          {"true_negatives", quality.true_negatives},
          {"false_negatives", quality.false_negatives}};
}

absl::StatusOr<eval::FilterQuality> QualityAt(const std::vector<double>& harmful,
                                              const std::vector<double>& harmless,
                                              double threshold) {
  std::vector<bool> filtered;
  std::vector<bool> labels;
  for (double cosine : harmful) {
    filtered.push_back(IsFiltered(cosine, threshold));
    labels.push_back(true);
  }
  for (double cosine : harmless) {
    filtered.push_back(IsFiltered(cosine, threshold));
    labels.push_back(false);
  }
  return eval::ComputeFilterQuality(filtered, labels);
}

std::vector<double> ToVector(const torch::Tensor& tensor) {
  const torch::Tensor values = tensor.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
}

}  // namespace

nlohmann::json CalibrationReport::ToJson() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const LayerQuality& layer : layers) {
    nlohmann::json entry = {{"layer", layer.layer},
                            {"threshold", layer.threshold},
                            {"quality", QualityToJson(layer.quality)}};
    if (layer.fixed_threshold_quality.has_value()) {
      entry["fixed_threshold_quality"] = QualityToJson(*layer.fixed_threshold_quality);
    }
    layers_json.push_back(entry);
  }
  return {{"layers", layers_json},
          {"chosen_layer", layers.empty() ? -1 : layers[chosen].layer},
          {"chosen_threshold", layers.empty() ? 0.0 : layers[chosen].threshold},
          {"fixed_threshold", fixed_threshold}};
}

absl::StatusOr<LayerQuality> CalibrateThreshold(const std::vector<double>& harmful,
                                                const std::vector<double>& harmless) {
  if (harmful.empty() || harmless.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threshold calibration needs harmful and harmless prompts, got ", harmful.size(),
        " and ", harmless.size()));
  }

  // Every observed cosine is a candidate: with "filtered when above", choosing a prompt's own
  // cosine keeps that prompt. -1 (or just below the lowest cosine) filters everything.
  std::vector<double> candidates = harmful;
  candidates.insert(candidates.end(), harmless.begin(), harmless.end());
  candidates.push_back(*std::min_element(candidates.begin(), candidates.end()) - 1e-6);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  LayerQuality best;
  bool have_best = false;
  for (double threshold : candidates) {
    REFTUNE_ASSIGN_OR_RETURN(eval::FilterQuality quality, QualityAt(harmful, harmless, threshold));
    const double f1 = quality.f1.value_or(0.0);
    const double fpr = quality.false_positive_rate.value_or(1.0);
    const bool better =
        !have_best || f1 > best.quality.f1.value_or(0.0) + 1e-12 ||
        (std::abs(f1 - best.quality.f1.value_or(0.0)) <= 1e-12 &&
         fpr <= best.quality.false_positive_rate.value_or(1.0));
    if (better) {
      best.threshold = threshold;
      best.quality = quality;
      have_best = true;
    }
  }
  return best;
}

absl::StatusOr<CalibrationReport> CalibrateLayers(
    model::Transformer& model, const std::vector<EncodedExample>& train_harmful,
    const std::vector<EncodedExample>& train_harmless,
    const std::vector<EncodedExample>& heldout_harmful,
    const std::vector<EncodedExample>& heldout_harmless, const CalibrationOptions& options,
    std::vector<torch::Tensor>* refusal_features) {
  FeatureOptions feature_options;
  feature_options.adapter = options.adapter;
  feature_options.batch_size = options.batch_size;
  feature_options.layers = options.layers;
  if (feature_options.layers.empty()) {
    feature_options.layers.resize(model->config().n_layers);
    std::iota(feature_options.layers.begin(), feature_options.layers.end(), 0);
  }

  REFTUNE_ASSIGN_OR_RETURN(auto train_harmful_features,
                           ComputePromptFeatures(model, train_harmful, feature_options));
  REFTUNE_ASSIGN_OR_RETURN(auto train_harmless_features,
                           ComputePromptFeatures(model, train_harmless, feature_options));
  REFTUNE_ASSIGN_OR_RETURN(auto heldout_harmful_features,
                           ComputePromptFeatures(model, heldout_harmful, feature_options));
  REFTUNE_ASSIGN_OR_RETURN(auto heldout_harmless_features,
                           ComputePromptFeatures(model, heldout_harmless, feature_options));

  CalibrationReport report;
  report.fixed_threshold = options.fixed_threshold;
  refusal_features->clear();
  for (size_t i = 0; i < feature_options.layers.size(); ++i) {
    REFTUNE_ASSIGN_OR_RETURN(torch::Tensor refusal,
                             RefusalFeatureFromFeatures(train_harmful_features[i],
                                                        train_harmless_features[i]));
    const std::vector<double> harmful = ToVector(RefusalCosine(heldout_harmful_features[i], refusal));
    const std::vector<double> harmless =
        ToVector(RefusalCosine(heldout_harmless_features[i], refusal));
    REFTUNE_ASSIGN_OR_RETURN(LayerQuality quality, CalibrateThreshold(harmful, harmless));
    quality.layer = feature_options.layers[i];
    REFTUNE_ASSIGN_OR_RETURN(quality.fixed_threshold_quality,
                             QualityAt(harmful, harmless, options.fixed_threshold));
    if (quality.quality.f1.value_or(0.0) >
        (report.layers.empty() ? -1.0 : report.layers[report.chosen].quality.f1.value_or(0.0))) {
      report.chosen = report.layers.size();
    }
    report.layers.push_back(quality);
    refusal_features->push_back(refusal);
  }
  return report;
}

}  // namespace reftune::method
