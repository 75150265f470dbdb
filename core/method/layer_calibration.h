// Choice of the filter layer l and threshold tau on held-out labelled prompts.
#ifndef REFTUNE_CORE_METHOD_LAYER_CALIBRATION_H_
#define REFTUNE_CORE_METHOD_LAYER_CALIBRATION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/eval/filter_quality.h"
#include "core/method/token_batch.h"
#include "core/model/transformer.h"
#include "nlohmann/json.hpp"

namespace reftune::method {

// The filter's rule: a prompt is filtered when its cosine is strictly above the threshold, so a
// cosine equal to the threshold is kept.
inline bool IsFiltered(double cosine, double threshold) { return cosine > threshold; }

struct LayerQuality {
  int64_t layer = 0;
  // The threshold with the best F1 on the held-out prompts (ties: the lowest false-positive rate,
  // then the highest threshold).
  double threshold = 0.0;
  eval::FilterQuality quality;
  // Quality at the fixed threshold the caller asked to compare (the paper's 0.9), when set.
  std::optional<eval::FilterQuality> fixed_threshold_quality;
};

struct CalibrationReport {
  std::vector<LayerQuality> layers;
  // Index into `layers` of the chosen layer: the best F1, the lowest layer on ties (earlier exit).
  size_t chosen = 0;
  double fixed_threshold = 0.9;

  nlohmann::json ToJson() const;
};

// Returns the best-F1 threshold for prompts with cosines `harmful` and `harmless`.
// INVALID_ARGUMENT when either side is empty.
absl::StatusOr<LayerQuality> CalibrateThreshold(const std::vector<double>& harmful,
                                                const std::vector<double>& harmless);

struct CalibrationOptions {
  // LoRA adapter of the teacher.
  std::string adapter;
  // Blocks to compare; empty means every block.
  std::vector<int64_t> layers;
  int64_t batch_size = 64;
  // Threshold whose quality is reported next to the calibrated one.
  double fixed_threshold = 0.9;
};

// Computes R^l for every candidate layer from the training prompts, scores the held-out prompts
// and returns the per-layer quality together with each layer's R^l ([dim]) in `refusal_features`
// (same order as report.layers).
absl::StatusOr<CalibrationReport> CalibrateLayers(
    model::Transformer& model, const std::vector<EncodedExample>& train_harmful,
    const std::vector<EncodedExample>& train_harmless,
    const std::vector<EncodedExample>& heldout_harmful,
    const std::vector<EncodedExample>& heldout_harmless, const CalibrationOptions& options,
    std::vector<torch::Tensor>* refusal_features);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_LAYER_CALIBRATION_H_
