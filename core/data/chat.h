// Chat histories and the one rule that renders them into a single prompt string.
#ifndef REFTUNE_CORE_DATA_CHAT_H_
#define REFTUNE_CORE_DATA_CHAT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reftune::data {

enum class ChatRole { kSystem, kUser, kAssistant };

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string content;
};

// Parses "system", "user" or "assistant"; nullopt for anything else, case included.
std::optional<ChatRole> ParseChatRole(std::string_view name);

// Returns the lowercase wire name of a role.
std::string_view ChatRoleName(ChatRole role);

// Renders the turns before the answer into the prompt that the prompt template wraps.
// A history of exactly one user turn renders as that turn's content. Any other history renders
// each turn as "System: ...", "User: ..." or "Assistant: ..." in order, joined by blank lines.
std::string RenderChatHistory(const std::vector<ChatMessage>& turns);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_CHAT_H_
