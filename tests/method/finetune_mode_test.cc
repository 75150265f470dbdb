#include "core/method/finetune_mode.h"

#include "gtest/gtest.h"

namespace reftune::method {
namespace {

TEST(FinetuneMode, PlanTable) {
  struct Case {
    FinetuneMode mode;
    bool filter;
    bool distill;
    bool merge;
    bool teacher;
  };
  const Case cases[] = {
      {FinetuneMode::kRefTeacher, true, true, false, true},
      {FinetuneMode::kSft, false, false, false, false},
      {FinetuneMode::kAlignedSft, false, false, true, true},
      {FinetuneMode::kFilterOnly, true, false, false, true},
      {FinetuneMode::kDistillOnly, false, true, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(FinetuneModeName(c.mode)));
    const ModePlan plan = PlanForMode(c.mode);
    EXPECT_EQ(plan.filter_user_rows, c.filter);
    EXPECT_EQ(plan.distill, c.distill);
    EXPECT_EQ(plan.merge_teacher, c.merge);
    EXPECT_EQ(plan.needs_teacher(), c.teacher);
    EXPECT_EQ(plan.needs_alignment_data(), c.distill);
  }
}

TEST(FinetuneMode, NamesRoundTrip) {
  for (FinetuneMode mode : {FinetuneMode::kRefTeacher, FinetuneMode::kSft, FinetuneMode::kAlignedSft,
                            FinetuneMode::kFilterOnly, FinetuneMode::kDistillOnly}) {
    SCOPED_TRACE(std::string(FinetuneModeName(mode)));
    auto parsed = ParseFinetuneMode(FinetuneModeName(mode));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, mode);
  }
  auto lower = ParseFinetuneMode("ref_teacher");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(*lower, FinetuneMode::kRefTeacher);
}

TEST(FinetuneMode, UnknownNameListsChoices) {
  auto parsed = ParseFinetuneMode("vaccine");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("\"vaccine\""), std::string::npos);
  EXPECT_NE(parsed.status().message().find("DISTILL_ONLY"), std::string::npos);
}

}  // namespace
}  // namespace reftune::method
