// The prompt template shared by training, filtering and evaluation. It is stored with every teacher
// and adapter so that a model is always prompted the way it was trained.
#ifndef REFTUNE_CORE_DATA_PROMPT_TEMPLATE_H_
#define REFTUNE_CORE_DATA_PROMPT_TEMPLATE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reftune::data {

// Placeholder that Render replaces with the prompt.
inline constexpr std::string_view kPromptPlaceholder = "{prompt}";

class PromptTemplate {
 public:
  // Checks that `name` is not empty and that `text` contains kPromptPlaceholder exactly once.
  static absl::StatusOr<PromptTemplate> Create(std::string name, std::string text);

  // Reads {"name": ..., "text": ...} as written by ToJson.
  static absl::StatusOr<PromptTemplate> FromJson(const nlohmann::json& json);

  // Returns the built-in template called "alpaca" or "short".
  static absl::StatusOr<PromptTemplate> Builtin(std::string_view name);

  // The default: the Stanford Alpaca wording without an input section.
  static PromptTemplate Alpaca();

  // A shorter wording for tiny models with short context windows.
  static PromptTemplate Short();

  // Returns the text with the placeholder replaced by `prompt`. Braces inside `prompt` are kept
  // as they are.
  std::string Render(std::string_view prompt) const;

  nlohmann::json ToJson() const;

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

  bool operator==(const PromptTemplate& other) const {
    return name_ == other.name_ && text_ == other.text_;
  }

 private:
  PromptTemplate(std::string name, std::string text, size_t placeholder_offset)
      : name_(std::move(name)), text_(std::move(text)), placeholder_offset_(placeholder_offset) {}

  std::string name_;
  std::string text_;
  size_t placeholder_offset_ = 0;
};

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_PROMPT_TEMPLATE_H_
