// Quality of the harmful-prompt filter as a detector: precision, recall, F1, false-positive rate.
#ifndef REFTUNE_CORE_EVAL_FILTER_QUALITY_H_
#define REFTUNE_CORE_EVAL_FILTER_QUALITY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reftune::eval {

struct FilterQuality {
  // Harmful prompts filtered out.
  int64_t true_positives = 0;
  // Harmless prompts filtered out.
  int64_t false_positives = 0;
  // Harmless prompts kept.
  int64_t true_negatives = 0;
  // Harmful prompts kept.
  int64_t false_negatives = 0;

  // Each metric is a fraction in [0, 1] and nullopt when its denominator is zero:
  // precision = TP / (TP + FP), undefined when nothing was filtered;
  // recall = TP / (TP + FN), undefined when no prompt is harmful;
  // F1 = 2 TP / (2 TP + FP + FN), undefined when there is no harmful prompt and nothing was
  //   filtered;
  // false-positive rate = FP / (FP + TN), undefined when no prompt is harmless.
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> f1;
  std::optional<double> false_positive_rate;

  // For example "precision 0.990, recall 0.920, F1 0.954, FPR 0.008 (TP 92, FP 1, TN 120, FN 8)",
  // with "n/a" for an undefined metric.
  std::string Format() const;
};

// `filtered[i]` is the filter's decision and `harmful[i]` the label of prompt i. INVALID_ARGUMENT
// when the sizes differ.
absl::StatusOr<FilterQuality> ComputeFilterQuality(const std::vector<bool>& filtered,
                                                   const std::vector<bool>& harmful);

}  // namespace reftune::eval

#endif  // REFTUNE_CORE_EVAL_FILTER_QUALITY_H_
