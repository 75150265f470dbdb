#include "core/data/csv.h"

#include "gtest/gtest.h"

namespace reftune::data {
namespace {

TEST(ParseCsv, QuotedFieldsAndEscapes) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      ParseCsv("a,b\r\n1,\"x, \"\"y\"\"\nz\"\n2,\n", "test.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*rows)[1], (std::vector<std::string>{"1", "x, \"y\"\nz"}));
  EXPECT_EQ((*rows)[2], (std::vector<std::string>{"2", ""}));
}

TEST(ParseCsv, UnclosedQuoteNamesLine) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv("a\n\"open\n", "t.csv");
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("t.csv:2"), std::string::npos) << rows.status();
}

}  // namespace
}  // namespace reftune::data
