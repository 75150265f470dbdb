// Filter precision, recall, F1 and false-positive rate, including zero denominators.
#include "core/eval/filter_quality.h"

#include <vector>

#include "gtest/gtest.h"

namespace reftune::eval {
namespace {

TEST(FilterQuality, CountsAndRatios) {
  // TP 3, FP 1, TN 4, FN 2.
  const std::vector<bool> filtered = {true, true, true, true, false, false, false, false,
                                      false, false};
  const std::vector<bool> harmful = {true, true, true, false, true, true, false, false,
                                     false, false};
  absl::StatusOr<FilterQuality> quality = ComputeFilterQuality(filtered, harmful);
  ASSERT_TRUE(quality.ok()) << quality.status();
  EXPECT_EQ(quality->true_positives, 3);
  EXPECT_EQ(quality->false_positives, 1);
  EXPECT_EQ(quality->true_negatives, 4);
  EXPECT_EQ(quality->false_negatives, 2);
  EXPECT_DOUBLE_EQ(*quality->precision, 0.75);
  EXPECT_DOUBLE_EQ(*quality->recall, 0.6);
  EXPECT_DOUBLE_EQ(*quality->f1, 6.0 / 9.0);
  EXPECT_DOUBLE_EQ(*quality->false_positive_rate, 0.2);
}

TEST(FilterQuality, ZeroDenominatorsAreUndefined) {
  struct Case {
    const char* name;
    std::vector<bool> filtered;
    std::vector<bool> harmful;
    bool precision_defined;
    bool recall_defined;
    bool f1_defined;
    bool fpr_defined;
  };
  const std::vector<Case> cases = {
      {"nothing filtered, all harmless", {false, false}, {false, false}, false, false, false,
       true},
      {"nothing filtered, some harmful", {false, false}, {true, false}, false, true, true, true},
      {"all harmful, all filtered", {true, true}, {true, true}, true, true, true, false},
      {"empty input", {}, {}, false, false, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<FilterQuality> quality = ComputeFilterQuality(c.filtered, c.harmful);
    ASSERT_TRUE(quality.ok()) << quality.status();
    EXPECT_EQ(quality->precision.has_value(), c.precision_defined);
    EXPECT_EQ(quality->recall.has_value(), c.recall_defined);
    EXPECT_EQ(quality->f1.has_value(), c.f1_defined);
    EXPECT_EQ(quality->false_positive_rate.has_value(), c.fpr_defined);
  }

  absl::StatusOr<FilterQuality> missed = ComputeFilterQuality({false}, {true});
  ASSERT_TRUE(missed.ok());
  EXPECT_DOUBLE_EQ(*missed->recall, 0.0);
  EXPECT_DOUBLE_EQ(*missed->f1, 0.0);
  EXPECT_NE(missed->Format().find("precision n/a"), std::string::npos) << missed->Format();
}

TEST(FilterQuality, SizeMismatchIsError) {
  absl::StatusOr<FilterQuality> quality = ComputeFilterQuality({true}, {true, false});
  EXPECT_EQ(quality.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(quality.status().message().find("1 decisions, 2 labels"), std::string::npos);
}

}  // namespace
}  // namespace reftune::eval
