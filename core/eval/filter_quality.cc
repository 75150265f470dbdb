#include "core/eval/filter_quality.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reftune::eval {
namespace {

std::optional<double> Ratio(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return std::nullopt;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

std::string FormatMetric(const std::optional<double>& value) {
  return value.has_value() ? absl::StrFormat("%.3f", *value) : "n/a";
}

}  // namespace

std::string FilterQuality::Format() const {
  return absl::StrCat("precision ", FormatMetric(precision), ", recall ", FormatMetric(recall),
                      ", F1 ", FormatMetric(f1), ", FPR ", FormatMetric(false_positive_rate),
                      " (TP ", true_positives, ", FP ", false_positives, ", TN ", true_negatives,
                      ", FN ", false_negatives, ")");
}

absl::StatusOr<FilterQuality> ComputeFilterQuality(const std::vector<bool>& filtered,
                                                   const std::vector<bool>& harmful) {
  if (filtered.size() != harmful.size()) {
    return absl::InvalidArgumentError(absl::StrCat("filter decisions and labels differ in size: ",
                                                   filtered.size(), " decisions, ",
                                                   harmful.size(), " labels"));
  }
  FilterQuality quality;
  for (size_t i = 0; i < filtered.size(); ++i) {
    if (filtered[i] && harmful[i]) ++quality.true_positives;
    if (filtered[i] && !harmful[i]) ++quality.false_positives;
    if (!filtered[i] && !harmful[i]) ++quality.true_negatives;
    if (!filtered[i] && harmful[i]) ++quality.false_negatives;
  }
  const int64_t tp = quality.true_positives;
  const int64_t fp = quality.false_positives;
  const int64_t fn = quality.false_negatives;
  quality.precision = Ratio(tp, tp + fp);
  quality.recall = Ratio(tp, tp + fn);
  quality.f1 = Ratio(2 * tp, 2 * tp + fp + fn);
  quality.false_positive_rate = Ratio(fp, fp + quality.true_negatives);
  return quality;
}

}  // namespace reftune::eval
