#include "core/data/record_parser.h"

#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/chat.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

using json = nlohmann::json;

// Collects the issues of one record and checks string fields the same way for every format.
class RecordChecker {
 public:
  RecordChecker(int64_t line, const RecordParseOptions& options,
                std::vector<ValidationIssue>* errors, std::vector<ValidationIssue>* warnings)
      : line_(line), options_(options), errors_(errors), warnings_(warnings) {}

  void Error(std::string field, std::string message) {
    errors_->push_back({line_, std::move(field), std::move(message)});
    ++error_count_;
  }

  void Warning(std::string field, std::string message) {
    warnings_->push_back({line_, std::move(field), std::move(message)});
  }

  bool failed() const { return error_count_ > 0; }

  // Reads a required or optional string field of `object`. Returns nullopt and records an error
  // when it is missing (if required), not a string, empty (if `allow_empty` is false) or too long.
  std::optional<std::string> ReadText(const json& object, const char* key, std::string field,
                                      bool required, bool allow_empty, absl::string_view fix) {
    const auto it = object.find(key);
    if (it == object.end()) {
      if (required) Error(field, absl::StrCat("\"", field, "\" is missing; ", fix));
      return std::nullopt;
    }
    if (!it->is_string()) {
      Error(field, absl::StrCat("\"", field, "\" must be a string, got ", DescribeJsonValue(*it),
                                "; ", fix));
      return std::nullopt;
    }
    std::string text = it->get<std::string>();
    if (!allow_empty && absl::StripAsciiWhitespace(text).empty()) {
      Error(field, absl::StrCat("\"", field, "\" is empty; ", fix));
      return std::nullopt;
    }
    if (!CheckLength(field, text)) return std::nullopt;
    return text;
  }

  bool CheckLength(const std::string& field, const std::string& text) {
    const size_t limit = options_.max_field_bytes;
    if (limit == 0) return true;
    if (text.size() > limit) {
      Error(field, absl::StrCat("\"", field, "\" is ", text.size(),
                                " bytes, over the limit of ", limit, " bytes; shorten it"));
      return false;
    }
    if (static_cast<double>(text.size()) > options_.near_limit_fraction * limit) {
      Warning(field, absl::StrCat("\"", field, "\" is ", text.size(), " bytes, near the limit of ",
                                  limit, " bytes"));
    }
    return true;
  }

  void WarnUnknownKeys(const json& object, std::initializer_list<absl::string_view> known,
                       absl::string_view prefix, absl::string_view fix) {
    for (const auto& item : object.items()) {
      bool is_known = false;
      for (const absl::string_view name : known) is_known = is_known || item.key() == name;
      if (!is_known) {
        Warning(absl::StrCat(prefix, item.key()),
                absl::StrCat("unknown key \"", prefix, item.key(), "\" is ignored; ", fix));
      }
    }
  }

 private:
  int64_t line_;
  const RecordParseOptions& options_;
  std::vector<ValidationIssue>* errors_;
  std::vector<ValidationIssue>* warnings_;
  int error_count_ = 0;
};

constexpr absl::string_view kMetaFix = "remove it or rename it to a known key";

std::optional<RecordMeta> ParseMeta(const json& object, RecordChecker& checker) {
  const auto it = object.find("meta");
  if (it == object.end()) return std::nullopt;
  if (!it->is_object()) {
    checker.Error("meta", absl::StrCat("\"meta\" must be an object, got ", DescribeJsonValue(*it),
                                       "; remove it or write {\"source\": ..., \"label\": ...}"));
    return std::nullopt;
  }

  RecordMeta meta;
  for (const auto& item : it->items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    const std::string field = absl::StrCat("meta.", key);
    if (key == "source" || key == "label") {
      if (!value.is_string()) {
        checker.Error(field, absl::StrCat("\"", field, "\" must be a string, got ",
                                          DescribeJsonValue(value)));
        continue;
      }
      (key == "source" ? meta.source : meta.label) = value.get<std::string>();
    } else if (key == "harmful" || key == "poison") {
      if (!value.is_boolean()) {
        checker.Error(field, absl::StrCat("\"", field, "\" must be true or false, got ",
                                          DescribeJsonValue(value)));
        continue;
      }
      (key == "harmful" ? meta.harmful : meta.poison) = value.get<bool>();
    } else {
      checker.Warning(field, absl::StrCat("unknown key \"", field, "\" is ignored; expected "
                                          "source, harmful, poison or label"));
    }
  }
  return meta;
}

std::optional<Record> ParsePromptResponse(const json& object, const RecordParseOptions& options,
                                          RecordChecker& checker) {
  checker.WarnUnknownKeys(object, {"prompt", "response", "meta"}, "", kMetaFix);
  auto prompt = checker.ReadText(object, "prompt", "prompt", true, false,
                                 "give the prompt text");
  auto response =
      checker.ReadText(object, "response", "response", options.require_response, false,
                       "give the answer text");
  if (checker.failed()) return std::nullopt;
  Record record;
  record.prompt = std::move(*prompt);
  if (response.has_value()) record.response = std::move(*response);
  return record;
}

std::optional<Record> ParseAlpaca(const json& object, RecordChecker& checker) {
  checker.WarnUnknownKeys(object, {"instruction", "input", "output", "meta"}, "", kMetaFix);
  auto instruction = checker.ReadText(object, "instruction", "instruction", true, false,
                                      "give the instruction text");
  auto input = checker.ReadText(object, "input", "input", false, true,
                                "use a string, or leave \"input\" out");
  auto output = checker.ReadText(object, "output", "output", true, false,
                                 "give the answer text");
  if (checker.failed()) return std::nullopt;

  Record record;
  record.prompt = std::move(*instruction);
  if (input.has_value() && !absl::StripAsciiWhitespace(*input).empty()) {
    absl::StrAppend(&record.prompt, "\n\n", *input);
  }
  record.response = std::move(*output);
  return record;
}

std::optional<ChatMessage> ParseMessage(const json& message, size_t index,
                                        RecordChecker& checker) {
  const std::string prefix = absl::StrCat("messages[", index, "]");
  if (!message.is_object()) {
    checker.Error(prefix, absl::StrCat("\"", prefix, "\" must be an object with \"role\" and "
                                       "\"content\", got ", DescribeJsonValue(message)));
    return std::nullopt;
  }
  checker.WarnUnknownKeys(message, {"role", "content"}, prefix + ".", "remove it");

  std::optional<ChatRole> role;
  const auto role_it = message.find("role");
  const std::string role_field = prefix + ".role";
  if (role_it == message.end()) {
    checker.Error(role_field, absl::StrCat("\"", role_field, "\" is missing; expected \"system\", "
                                           "\"user\" or \"assistant\""));
  } else if (!role_it->is_string() ||
             !(role = ParseChatRole(role_it->get_ref<const std::string&>())).has_value()) {
    checker.Error(role_field, absl::StrCat("\"", role_field, "\" is ",
                                           DescribeJsonValue(*role_it), "; expected \"system\", "
                                           "\"user\" or \"assistant\" in lowercase"));
  }
  auto content = checker.ReadText(message, "content", prefix + ".content", true, false,
                                  "give the turn's text or remove the turn");
  if (!role.has_value() || !content.has_value()) return std::nullopt;
  return ChatMessage{*role, std::move(*content)};
}

std::optional<Record> ParseChat(const json& object, RecordChecker& checker) {
  checker.WarnUnknownKeys(object, {"messages", "meta"}, "", kMetaFix);
  const json& messages = object.at("messages");
  if (!messages.is_array() || messages.empty()) {
    checker.Error("messages", absl::StrCat("\"messages\" must be a non-empty array of {\"role\", "
                                           "\"content\"} objects, got ",
                                           DescribeJsonValue(messages)));
    return std::nullopt;
  }

  std::vector<ChatMessage> turns;
  bool all_parsed = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    std::optional<ChatMessage> turn = ParseMessage(messages[i], i, checker);
    if (turn.has_value()) {
      turns.push_back(std::move(*turn));
    } else {
      all_parsed = false;
    }
  }
  if (!all_parsed) return std::nullopt;

  if (turns.back().role != ChatRole::kAssistant) {
    const std::string field = absl::StrCat("messages[", turns.size() - 1, "].role");
    checker.Error(field, absl::StrCat("the last message is from \"",
                                      AsAbslView(ChatRoleName(turns.back().role)),
                                      "\"; end the conversation with the \"assistant\" answer "
                                      "to train on"));
    return std::nullopt;
  }
  bool has_user = false;
  for (const ChatMessage& turn : turns) has_user = has_user || turn.role == ChatRole::kUser;
  if (!has_user) {
    checker.Error("messages", "\"messages\" has no \"user\" turn; add the user's request before "
                              "the answer");
    return std::nullopt;
  }

  Record record;
  record.response = std::move(turns.back().content);
  turns.pop_back();
  record.prompt = RenderChatHistory(turns);
  return record;
}

}  // namespace

std::string DescribeJsonValue(const json& value) {
  constexpr size_t kMaxShown = 40;
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxShown) text = absl::StrCat(text.substr(0, kMaxShown), "...");
  return absl::StrCat(value.type_name(), " ", text);
}

std::string RecordFormatName(const nlohmann::json& value) {
  if (value.contains("messages")) return "chat";
  if (value.contains("instruction")) return "alpaca";
  return "prompt_response";
}

std::optional<Record> ParseRecordObject(const json& value, int64_t line,
                                        const RecordParseOptions& options,
                                        std::vector<ValidationIssue>* errors,
                                        std::vector<ValidationIssue>* warnings) {
  RecordChecker checker(line, options, errors, warnings);
  if (!value.is_object()) {
    checker.Error("(record)", absl::StrCat("each line must be one JSON object, got ",
                                           DescribeJsonValue(value)));
    return std::nullopt;
  }

  const bool chat = value.contains("messages");
  const bool alpaca = value.contains("instruction");
  const bool plain = value.contains("prompt");
  if (static_cast<int>(chat) + static_cast<int>(alpaca) + static_cast<int>(plain) > 1) {
    checker.Error("(record)", "record mixes formats (\"prompt\", \"messages\", \"instruction\"); "
                              "use exactly one of them per record");
    return std::nullopt;
  }

  std::optional<Record> record;
  if (chat) {
    record = ParseChat(value, checker);
  } else if (alpaca) {
    record = ParseAlpaca(value, checker);
  } else if (plain) {
    record = ParsePromptResponse(value, options, checker);
  } else {
    std::vector<std::string> keys;
    for (const auto& item : value.items()) keys.push_back(item.key());
    checker.Error("(record)",
                  absl::StrCat("record has none of \"prompt\", \"messages\" or \"instruction\" "
                               "(keys found: ",
                               keys.empty() ? "none" : absl::StrJoin(keys, ", "),
                               "); write {\"prompt\": ..., \"response\": ...}"));
    return std::nullopt;
  }

  std::optional<RecordMeta> meta = ParseMeta(value, checker);
  if (!record.has_value() || checker.failed()) return std::nullopt;
  record->line = line;
  record->meta = std::move(meta);
  return record;
}

}  // namespace reftune::data
