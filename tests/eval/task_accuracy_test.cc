// Finetune-accuracy parsers and scoring on tables of answers.
#include "core/eval/task_accuracy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace reftune::eval {
namespace {

TEST(ExtractLeadingLabel, AnswerTable) {
  const std::vector<std::string>& sst2 = data::TaskLabelWords(data::TaskKind::kSst2);
  const std::vector<std::string>& agnews = data::TaskLabelWords(data::TaskKind::kAgNews);
  struct Case {
    std::string answer;
    const std::vector<std::string>* labels;
    std::optional<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"positive", &sst2, "positive"},
      {"  Negative, because ...", &sst2, "negative"},
      {"\"POSITIVE\"", &sst2, "positive"},
      {"positively glowing", &sst2, std::nullopt},
      {"The answer is positive", &sst2, std::nullopt},
      {"", &sst2, std::nullopt},
      {"Sci/Tech", &agnews, "Sci/Tech"},
      {"sports.", &agnews, "Sports"},
      {"**World** news", &agnews, "World"},
      {"Business\n", &agnews, "Business"},
      {"Sci", &agnews, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.answer);
    EXPECT_EQ(ExtractLeadingLabel(c.answer, *c.labels), c.expected);
  }
}

TEST(ExtractFinalNumber, AnswerTable) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"She makes 9 * 2 = $18 every day.\n#### 18", "18"},
      {"The total is 1,200 dollars", "1200"},
      {"It costs $3.50.", "3.5"},
      {"Temperature fell to -4", "-4"},
      {"answer: 007", "7"},
      {"5.0", "5"},
      {"0.25 of them", "0.25"},
      {"Version 1.2.3", "2.3"},
      {"no digits here", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ExtractFinalNumber(text), expected);
  }
}

TEST(ExtractGsm8kReference, ReadsNumberAfterMarker) {
  EXPECT_EQ(ExtractGsm8kReference("He pays 2 * 3 = 6.\n#### 6"), "6");
  EXPECT_EQ(ExtractGsm8kReference("#### 1,000"), "1000");
  EXPECT_EQ(ExtractGsm8kReference("The answer is 6"), std::nullopt);
}

TEST(ComputeTaskAccuracy, ClassificationTask) {
  const std::vector<AnswerWithReference> items = {
      {"positive", "positive"},
      {"Negative.", "negative"},
      {"positive", "negative"},
      {"I think it is positive", "positive"},
  };
  absl::StatusOr<TaskAccuracy> accuracy = ComputeTaskAccuracy(data::TaskKind::kSst2, items);
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  EXPECT_EQ(accuracy->total, 4);
  EXPECT_EQ(accuracy->correct, 2);
  EXPECT_EQ(accuracy->unparsed, 1);
  EXPECT_DOUBLE_EQ(accuracy->percent(), 50.0);
}

TEST(ComputeTaskAccuracy, Gsm8kFinalNumber) {
  const std::vector<AnswerWithReference> items = {
      {"3 + 4 = 7\n#### 7", "Janet has 3 + 4 = 7 apples.\n#### 7"},
      {"The answer is 1,500.", "1500"},
      {"So she has 8 left", "#### 9"},
      {"I don't know", "12"},
  };
  absl::StatusOr<TaskAccuracy> accuracy = ComputeTaskAccuracy(data::TaskKind::kGsm8k, items);
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  EXPECT_EQ(accuracy->correct, 2);
  EXPECT_EQ(accuracy->unparsed, 1);
}

TEST(ComputeTaskAccuracy, RejectsEmptyAndBadReference) {
  EXPECT_EQ(ComputeTaskAccuracy(data::TaskKind::kSst2, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<TaskAccuracy> bad =
      ComputeTaskAccuracy(data::TaskKind::kAgNews, {{"World", "Weather"}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"Weather\""), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace reftune::eval
