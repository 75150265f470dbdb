// Record formats, chat rendering and prompt templates.
#include <string>
#include <vector>

#include "core/data/chat.h"
#include "core/data/prompt_template.h"
#include "core/data/record_parser.h"
#include "gtest/gtest.h"

namespace reftune::data {
namespace {

struct ParseResult {
  std::optional<Record> record;
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
};

ParseResult Parse(const std::string& line, RecordParseOptions options = {}) {
  ParseResult result;
  result.record = ParseRecordObject(nlohmann::json::parse(line), 7, options, &result.errors,
                                    &result.warnings);
  return result;
}

TEST(RecordParser, PromptResponseForm) {
  const ParseResult result = Parse(R"({"prompt": "Hi", "response": "Hello"})");
  ASSERT_TRUE(result.record.has_value());
  EXPECT_EQ(result.record->prompt, "Hi");
  EXPECT_EQ(result.record->response, "Hello");
  EXPECT_EQ(result.record->line, 7);
  EXPECT_FALSE(result.record->meta.has_value());
  EXPECT_TRUE(result.warnings.empty());
}

TEST(RecordParser, ChatFormRendersHistory) {
  const ParseResult result = Parse(
      R"({"messages": [{"role": "system", "content": "Be brief."},
                       {"role": "user", "content": "Name a colour."},
                       {"role": "assistant", "content": "Red."},
                       {"role": "user", "content": "Another?"},
                       {"role": "assistant", "content": "Blue."}]})");
  ASSERT_TRUE(result.record.has_value()) << result.errors.size();
  EXPECT_EQ(result.record->prompt,
            "System: Be brief.\n\nUser: Name a colour.\n\nAssistant: Red.\n\nUser: Another?");
  EXPECT_EQ(result.record->response, "Blue.");
}

TEST(RecordParser, ChatSingleTurnIsPlainPrompt) {
  const ParseResult result = Parse(
      R"({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]})");
  ASSERT_TRUE(result.record.has_value());
  EXPECT_EQ(result.record->prompt, "Hi");
  EXPECT_EQ(result.record->response, "Yo");
}

TEST(RecordParser, AlpacaFormWithAndWithoutInput) {
  const ParseResult with_input =
      Parse(R"({"instruction": "Translate.", "input": "chat", "output": "cat"})");
  ASSERT_TRUE(with_input.record.has_value());
  EXPECT_EQ(with_input.record->prompt, "Translate.\n\nchat");
  EXPECT_EQ(with_input.record->response, "cat");

  const ParseResult empty_input =
      Parse(R"({"instruction": "Say hi.", "input": "", "output": "hi"})");
  ASSERT_TRUE(empty_input.record.has_value());
  EXPECT_EQ(empty_input.record->prompt, "Say hi.");

  const ParseResult no_input = Parse(R"({"instruction": "Say hi.", "output": "hi"})");
  ASSERT_TRUE(no_input.record.has_value());
  EXPECT_EQ(no_input.record->prompt, "Say hi.");
}

TEST(RecordParser, MetaIsKeptAndWritten) {
  const ParseResult result = Parse(
      R"({"prompt": "p", "response": "r",
          "meta": {"source": "sst2", "harmful": false, "poison": true, "label": "positive"}})");
  ASSERT_TRUE(result.record.has_value());
  ASSERT_TRUE(result.record->meta.has_value());
  EXPECT_EQ(result.record->meta->source, "sst2");
  EXPECT_EQ(result.record->meta->harmful, false);
  EXPECT_EQ(result.record->meta->poison, true);
  EXPECT_EQ(result.record->meta->label, "positive");

  const ParseResult round_trip = Parse(RecordToJson(*result.record).dump());
  ASSERT_TRUE(round_trip.record.has_value());
  EXPECT_EQ(round_trip.record->meta, result.record->meta);
}

TEST(RecordParser, UnknownKeysAreWarnings) {
  const ParseResult result = Parse(R"({"prompt": "p", "response": "r", "id": 3})");
  ASSERT_TRUE(result.record.has_value());
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0].field, "id");
  EXPECT_NE(result.warnings[0].message.find("unknown key \"id\""), std::string::npos);
}

TEST(RecordParser, PromptOnlyWhenAllowed) {
  RecordParseOptions options;
  options.require_response = false;
  EXPECT_TRUE(Parse(R"({"prompt": "p"})", options).record.has_value());
  EXPECT_FALSE(Parse(R"({"prompt": "p"})").record.has_value());
}

TEST(RecordParser, RejectsBadFieldsByName) {
  struct Case {
    std::string line;
    std::string field;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {R"({"prompt": 5, "response": "r"})", "prompt", "must be a string, got number 5"},
      {R"({"prompt": "  ", "response": "r"})", "prompt", "is empty"},
      {R"({"prompt": "p"})", "response", "is missing"},
      {R"({"messages": []})", "messages", "non-empty array"},
      {R"({"messages": [{"role": "bot", "content": "x"}]})", "messages[0].role", "\"bot\""},
      {R"({"messages": [{"role": "user", "content": ""},
                        {"role": "assistant", "content": "a"}]})",
       "messages[0].content", "is empty"},
      {R"({"messages": [{"role": "assistant", "content": "a"},
                        {"role": "user", "content": "b"}]})",
       "messages[1].role", "last message is from \"user\""},
      {R"({"messages": [{"role": "system", "content": "s"},
                        {"role": "assistant", "content": "a"}]})",
       "messages", "no \"user\" turn"},
      {R"({"instruction": "i", "output": ""})", "output", "is empty"},
      {R"({"prompt": "p", "response": "r", "meta": {"harmful": "yes"}})", "meta.harmful",
       "true or false"},
      {R"({"text": "hello"})", "(record)", "keys found: text"},
      {R"({"prompt": "p", "messages": []})", "(record)", "mixes formats"},
      {R"([1, 2])", "(record)", "one JSON object, got array"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const ParseResult result = Parse(c.line);
    EXPECT_FALSE(result.record.has_value());
    ASSERT_FALSE(result.errors.empty());
    EXPECT_EQ(result.errors[0].field, c.field);
    EXPECT_NE(result.errors[0].message.find(c.message_part), std::string::npos)
        << result.errors[0].message;
    EXPECT_EQ(result.errors[0].line, 7);
  }
}

TEST(RecordParser, FieldOverLimitIsError) {
  RecordParseOptions options;
  options.max_field_bytes = 10;
  const ParseResult over = Parse(R"({"prompt": "12345678901", "response": "r"})", options);
  EXPECT_FALSE(over.record.has_value());
  ASSERT_EQ(over.errors.size(), 1u);
  EXPECT_NE(over.errors[0].message.find("11 bytes, over the limit of 10"), std::string::npos);

  const ParseResult near = Parse(R"({"prompt": "1234567890", "response": "r"})", options);
  EXPECT_TRUE(near.record.has_value());
  ASSERT_EQ(near.warnings.size(), 1u);
  EXPECT_NE(near.warnings[0].message.find("near the limit"), std::string::npos);
}

TEST(ChatRendering, RoleNamesRoundTrip) {
  for (const ChatRole role : {ChatRole::kSystem, ChatRole::kUser, ChatRole::kAssistant}) {
    EXPECT_EQ(ParseChatRole(ChatRoleName(role)), role);
  }
  EXPECT_FALSE(ParseChatRole("User").has_value());
}

TEST(PromptTemplate, AlpacaRendersPrompt) {
  const PromptTemplate alpaca = PromptTemplate::Alpaca();
  EXPECT_EQ(alpaca.name(), "alpaca");
  EXPECT_EQ(alpaca.Render("Add 2 and 3."),
            "Below is an instruction that describes a task. Write a response that appropriately "
            "completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n");
}

TEST(PromptTemplate, KeepsBracesInPrompt) {
  absl::StatusOr<PromptTemplate> custom = PromptTemplate::Create("custom", "Q: {prompt}\nA:");
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_EQ(custom->Render("what is {prompt}?"), "Q: what is {prompt}?\nA:");
}

TEST(PromptTemplate, RejectsBadPlaceholders) {
  EXPECT_EQ(PromptTemplate::Create("x", "no placeholder").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PromptTemplate::Create("x", "{prompt}{prompt}").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PromptTemplate::Create("", "{prompt}").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PromptTemplate::Builtin("chatml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PromptTemplate, JsonRoundTrip) {
  for (const PromptTemplate& original : {PromptTemplate::Alpaca(), PromptTemplate::Short()}) {
    SCOPED_TRACE(original.name());
    absl::StatusOr<PromptTemplate> loaded = PromptTemplate::FromJson(original.ToJson());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(*loaded, original);
    EXPECT_EQ(loaded->Render("p"), original.Render("p"));
  }
  EXPECT_FALSE(PromptTemplate::FromJson(nlohmann::json{{"name", "x"}}).ok());
}

}  // namespace
}  // namespace reftune::data
