#include "core/data/chat.h"

namespace reftune::data {

std::optional<ChatRole> ParseChatRole(std::string_view name) {
  if (name == "system") return ChatRole::kSystem;
  if (name == "user") return ChatRole::kUser;
  if (name == "assistant") return ChatRole::kAssistant;
  return std::nullopt;
}

std::string_view ChatRoleName(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return "system";
    case ChatRole::kUser:
      return "user";
    case ChatRole::kAssistant:
      return "assistant";
  }
  return "user";
}

namespace {

std::string_view SpeakerLabel(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return "System: ";
    case ChatRole::kUser:
      return "User: ";
    case ChatRole::kAssistant:
      return "Assistant: ";
  }
  return "User: ";
}

}  // namespace

std::string RenderChatHistory(const std::vector<ChatMessage>& turns) {
  if (turns.size() == 1 && turns[0].role == ChatRole::kUser) return turns[0].content;

  std::string out;
  for (const ChatMessage& turn : turns) {
    if (!out.empty()) out += "\n\n";
    out += SpeakerLabel(turn.role);
    out += turn.content;
  }
  return out;
}

}  // namespace reftune::data
