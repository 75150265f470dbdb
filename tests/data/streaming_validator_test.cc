// Upload validation: every problem by line and field, chunking, limits, warnings and caps.
#include "core/data/streaming_validator.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace reftune::data {
namespace {

const std::string kGood = R"({"prompt": "Hi", "response": "Hello"})";

TEST(StreamingValidator, ReportsEveryBadLine) {
  const std::string data = absl::StrCat(
      kGood, "\n",                                                        // line 1
      R"({"prompt": "Hi"})", "\n",                                        // line 2: no response
      kGood, "\n",                                                        // line 3: duplicate
      "{not json}\n",                                                     // line 4
      R"({"messages": [{"role": "robot", "content": "x"}]})", "\n",      // line 5
      R"({"prompt": "ok", "response": "fine"})", "\n",                    // line 6
      R"({"instruction": "Do it", "output": 3})", "\n");                  // line 7
  const ValidationReport report = ValidateDataset(data);

  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.lines, 7);
  EXPECT_EQ(report.records, 7);
  EXPECT_EQ(report.valid_records, 3);
  ASSERT_EQ(report.error_count, 4);
  struct Expected {
    int64_t line;
    std::string field;
  };
  const std::vector<Expected> expected = {
      {2, "response"}, {4, "(record)"}, {5, "messages[0].role"}, {7, "output"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(report.errors[i].line, expected[i].line);
    EXPECT_EQ(report.errors[i].field, expected[i].field);
  }
  EXPECT_NE(report.errors[1].message.find("invalid JSON"), std::string::npos);
  EXPECT_NE(report.errors[3].message.find("got number 3"), std::string::npos);

  ASSERT_EQ(report.warning_count, 1);
  EXPECT_EQ(report.warnings[0].line, 3);
  EXPECT_NE(report.warnings[0].message.find("duplicates line 1"), std::string::npos);

  const std::string formatted = report.FormatErrors();
  EXPECT_NE(formatted.find("line 2, field response:"), std::string::npos) << formatted;
  EXPECT_EQ(report.ToStatus().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StreamingValidator, RecordSpanningChunks) {
  const std::string data = absl::StrCat(kGood, "\n", R"({"prompt": "Wide", "response": "é ü"})",
                                        "\n", R"({"prompt": "last", "response": "no newline"})");
  // Every split point, including ones inside a multi-byte character.
  for (size_t split = 0; split <= data.size(); ++split) {
    SCOPED_TRACE(split);
    StreamingValidator validator;
    ASSERT_TRUE(validator.Feed(data.substr(0, split)).ok());
    ASSERT_TRUE(validator.Feed(data.substr(split)).ok());
    const ValidationReport& report = validator.Finish();
    EXPECT_TRUE(report.ok()) << report.FormatErrors();
    EXPECT_EQ(report.valid_records, 3);
    EXPECT_EQ(report.total_bytes, static_cast<int64_t>(data.size()));
  }

  StreamingValidator byte_by_byte;
  for (const char c : data) ASSERT_TRUE(byte_by_byte.Feed(std::string(1, c)).ok());
  EXPECT_EQ(byte_by_byte.Finish().valid_records, 3);
}

TEST(StreamingValidator, FeedAfterFinishFails) {
  StreamingValidator validator;
  validator.Finish();
  EXPECT_EQ(validator.Feed(kGood).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StreamingValidator, InvalidUtf8NamesByte) {
  // The prompt's value starts at byte 13 of the line.
  const std::vector<std::pair<std::string, int>> bad_texts = {
      {"\xff", 13},         {"\xc3", 13},         {"\xc0\xaf", 13},
      {"\xed\xa0\x80", 13}, {"\xf4\x90\x80\x80", 13}, {"ab\xe2\x82", 15}};
  for (const auto& [bad, byte] : bad_texts) {
    SCOPED_TRACE(absl::CEscape(bad));
    const std::string line = absl::StrCat(R"({"prompt": ")", bad, R"(", "response": "r"})");
    const ValidationReport report = ValidateDataset(absl::StrCat(kGood, "\n", line, "\n"));
    ASSERT_EQ(report.error_count, 1);
    EXPECT_EQ(report.errors[0].line, 2);
    EXPECT_NE(report.errors[0].message.find(absl::StrCat("invalid UTF-8 at byte ", byte, " ")),
              std::string::npos)
        << report.errors[0].message;
  }
}

TEST(StreamingValidator, BlankLinesFollowOption) {
  const std::string data = absl::StrCat(kGood, "\n\n  \r\n", R"({"prompt": "b", "response": "c"})",
                                        "\n");
  const ValidationReport allowed = ValidateDataset(data);
  EXPECT_TRUE(allowed.ok());
  EXPECT_EQ(allowed.lines, 4);
  EXPECT_EQ(allowed.records, 2);

  ValidationOptions strict;
  strict.allow_blank_lines = false;
  const ValidationReport rejected = ValidateDataset(data, strict);
  ASSERT_EQ(rejected.error_count, 2);
  EXPECT_EQ(rejected.errors[0].line, 2);
  EXPECT_EQ(rejected.errors[1].line, 3);
}

TEST(StreamingValidator, RecordAndFieldLimits) {
  ValidationOptions options;
  options.max_record_bytes = 60;
  options.max_field_bytes = 20;
  const std::string long_field = R"({"prompt": "aaaaaaaaaaaaaaaaaaaaaaaaa", "response": "r"})";
  const std::string long_line =
      absl::StrCat(R"({"prompt": "a", "response": "b", "meta": {"source": ")",
                   std::string(40, 'x'), R"("}})");
  // The long line arrives in small chunks, so the validator must drop it while it grows.
  StreamingValidator validator(options);
  const std::string data = absl::StrCat(long_field, "\n", long_line, "\n", kGood, "\n");
  for (size_t i = 0; i < data.size(); i += 7) ASSERT_TRUE(validator.Feed(data.substr(i, 7)).ok());
  const ValidationReport& report = validator.Finish();

  ASSERT_EQ(report.error_count, 2);
  EXPECT_EQ(report.errors[0].line, 1);
  EXPECT_EQ(report.errors[0].field, "prompt");
  EXPECT_NE(report.errors[0].message.find("over the limit of 20 bytes"), std::string::npos);
  EXPECT_EQ(report.errors[1].line, 2);
  EXPECT_NE(report.errors[1].message.find(absl::StrCat("line is ", long_line.size(), " bytes")),
            std::string::npos)
      << report.errors[1].message;
  EXPECT_EQ(report.valid_records, 1);
}

TEST(StreamingValidator, TotalSizeAndRecordCountLimits) {
  const std::string data = absl::StrCat(kGood, "\n", kGood, "x\n", kGood, "\n");
  ValidationOptions few_records;
  few_records.max_records = 1;
  const ValidationReport counted = ValidateDataset(data, few_records);
  ASSERT_EQ(counted.error_count, 1);
  EXPECT_EQ(counted.errors[0].line, 2);
  EXPECT_NE(counted.errors[0].message.find("more than the limit of 1 records"), std::string::npos);

  ValidationOptions small_file;
  small_file.max_total_bytes = 50;
  const ValidationReport sized = ValidateDataset(data, small_file);
  ASSERT_GE(sized.error_count, 1);
  EXPECT_EQ(sized.errors[0].field, "(file)");
  EXPECT_NE(sized.errors[0].message.find("larger than the limit of 50 bytes"), std::string::npos);
}

TEST(StreamingValidator, CapsListedProblems) {
  std::string data;
  for (int i = 0; i < 25; ++i) absl::StrAppend(&data, R"({"prompt": 1})", "\n");
  ValidationOptions options;
  options.max_reported_errors = 10;
  const ValidationReport report = ValidateDataset(data, options);
  EXPECT_EQ(report.error_count, 50);
  EXPECT_EQ(report.errors.size(), 10u);
  EXPECT_EQ(report.errors_not_shown(), 40);
  EXPECT_NE(report.FormatErrors().find("40 more problems not shown"), std::string::npos);
  EXPECT_EQ(report.ToJson()["errors_not_shown"], 40);
}

TEST(StreamingValidator, LengthsPerRecord) {
  const std::string chat =
      R"({"messages": [{"role": "user", "content": "héllo"}, {"role": "assistant", "content": "ok"}]})";
  const ValidationReport report = ValidateDataset(absl::StrCat("\n", chat, "\n"));
  ASSERT_EQ(report.lengths.size(), 1u);
  EXPECT_EQ(report.lengths[0].line, 2);
  EXPECT_EQ(report.lengths[0].line_bytes, static_cast<int64_t>(chat.size()));
  EXPECT_EQ(report.lengths[0].prompt_bytes, 6);
  EXPECT_EQ(report.lengths[0].prompt_chars, 5);
  EXPECT_EQ(report.lengths[0].response_chars, 2);
}

TEST(StreamingValidator, CountsValidRecordsPerFormat) {
  const std::string data = absl::StrCat(
      kGood, "\n", R"({"prompt": "A", "response": "B"})", "\n",
      R"({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]})",
      "\n", R"({"instruction": "Sum", "input": "1 2", "output": "3"})", "\n",
      R"({"instruction": "Broken"})", "\n");
  const ValidationReport report = ValidateDataset(data);

  EXPECT_EQ(report.format_counts.at("prompt_response"), 2);
  EXPECT_EQ(report.format_counts.at("chat"), 1);
  // The Alpaca record without "output" is invalid and not counted.
  EXPECT_EQ(report.format_counts.at("alpaca"), 1);
  EXPECT_EQ(report.ToJson()["format_counts"]["chat"], 1);
}

}  // namespace
}  // namespace reftune::data
