#include "core/data/prompt_template.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

constexpr std::string_view kAlpacaText =
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{prompt}\n\n### Response:\n";

constexpr std::string_view kShortText = "### Instruction:\n{prompt}\n### Response:\n";

}  // namespace

absl::StatusOr<PromptTemplate> PromptTemplate::Create(std::string name, std::string text) {
  if (name.empty()) {
    return absl::InvalidArgumentError("prompt template name is empty; give the template a name");
  }
  const size_t first = text.find(kPromptPlaceholder);
  if (first == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("prompt template \"", name,
                                                   "\" has no {prompt} placeholder; add it "
                                                   "where the prompt goes"));
  }
  if (text.find(kPromptPlaceholder, first + 1) != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("prompt template \"", name,
                                                   "\" contains {prompt} more than once; keep "
                                                   "exactly one"));
  }
  return PromptTemplate(std::move(name), std::move(text), first);
}

absl::StatusOr<PromptTemplate> PromptTemplate::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt template must be a JSON object with \"name\" and \"text\", got ", json.dump()));
  }
  const auto name = json.find("name");
  const auto text = json.find("text");
  if (name == json.end() || !name->is_string()) {
    return absl::InvalidArgumentError("prompt template field \"name\" is missing or not a string");
  }
  if (text == json.end() || !text->is_string()) {
    return absl::InvalidArgumentError("prompt template field \"text\" is missing or not a string");
  }
  return Create(name->get<std::string>(), text->get<std::string>());
}

absl::StatusOr<PromptTemplate> PromptTemplate::Builtin(std::string_view name) {
  if (name == "alpaca") return Alpaca();
  if (name == "short") return Short();
  return absl::InvalidArgumentError(absl::StrCat("unknown prompt template \"", AsAbslView(name),
                                                 "\"; expected \"alpaca\" or \"short\""));
}

PromptTemplate PromptTemplate::Alpaca() {
  return PromptTemplate("alpaca", std::string(kAlpacaText), kAlpacaText.find(kPromptPlaceholder));
}

PromptTemplate PromptTemplate::Short() {
  return PromptTemplate("short", std::string(kShortText), kShortText.find(kPromptPlaceholder));
}

std::string PromptTemplate::Render(std::string_view prompt) const {
  std::string out;
  out.reserve(text_.size() + prompt.size());
  out.append(text_, 0, placeholder_offset_);
  out.append(prompt);
  out.append(text_, placeholder_offset_ + kPromptPlaceholder.size());
  return out;
}

nlohmann::json PromptTemplate::ToJson() const {
  return nlohmann::json{{"name", name_}, {"text", text_}};
}

}  // namespace reftune::data
