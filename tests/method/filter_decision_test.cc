#include "core/method/layer_calibration.h"

#include "gtest/gtest.h"

namespace reftune::method {
namespace {

TEST(FilterDecision, ThresholdBoundaryTable) {
  struct Case {
    double cosine;
    double threshold;
    bool filtered;
  };
  const Case cases[] = {{0.9, 0.9, false},       {0.9000001, 0.9, true}, {0.8999999, 0.9, false},
                        {-0.2, -0.2, false},     {1.0, 0.9, true},       {0.22, 0.22, false},
                        {0.2200001, 0.22, true}, {-1.0, -1.0, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.cosine << " vs " << c.threshold);
    EXPECT_EQ(IsFiltered(c.cosine, c.threshold), c.filtered);
  }
}

TEST(CalibrateThreshold, SeparableScoresGivePerfectF1) {
  auto layer = CalibrateThreshold({0.8, 0.6, 0.7}, {0.1, -0.3, 0.2});
  ASSERT_TRUE(layer.ok()) << layer.status();
  EXPECT_EQ(layer->quality.f1.value_or(0.0), 1.0);
  // The chosen threshold lies at the highest harmless cosine, which is kept.
  EXPECT_DOUBLE_EQ(layer->threshold, 0.2);
  EXPECT_EQ(layer->quality.false_positives, 0);
}

TEST(CalibrateThreshold, OverlapPicksBestF1) {
  auto layer = CalibrateThreshold({0.9, 0.5, 0.1}, {0.4, 0.0, -0.5});
  ASSERT_TRUE(layer.ok()) << layer.status();
  // Threshold 0.0 filters 0.9, 0.5, 0.1, 0.4: TP 3, FP 1, F1 6/7.
  EXPECT_NEAR(layer->quality.f1.value_or(0.0), 6.0 / 7.0, 1e-9);
  EXPECT_DOUBLE_EQ(layer->threshold, 0.0);
}

TEST(CalibrateThreshold, RejectsEmptySide) {
  auto layer = CalibrateThreshold({}, {0.1});
  EXPECT_EQ(layer.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::method
