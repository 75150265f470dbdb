#include "core/eval/task_accuracy.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/text_normalization.h"

namespace reftune::eval {
namespace {

bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

// Canonicalises a number made of digits, commas, at most one '.', and an optional leading '-'.
std::string CanonicalNumber(std::string_view raw) {
  bool negative = false;
  if (!raw.empty() && raw.front() == '-') {
    negative = true;
    raw.remove_prefix(1);
  }
  std::string digits;
  for (const char c : raw) {
    if (c != ',') digits.push_back(c);
  }
  if (digits.find('.') != std::string::npos) {
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    if (!digits.empty() && digits.back() == '.') digits.pop_back();
  }
  size_t first = 0;
  while (first + 1 < digits.size() && digits[first] == '0' && digits[first + 1] != '.') ++first;
  digits.erase(0, first);
  if (digits.empty() || digits == "0") return "0";
  return negative ? "-" + digits : digits;
}

}  // namespace

std::optional<std::string> ExtractLeadingLabel(std::string_view answer,
                                               const std::vector<std::string>& labels) {
  size_t start = 0;
  while (start < answer.size() &&
         (absl::ascii_isspace(static_cast<unsigned char>(answer[start])) ||
          answer[start] == '"' || answer[start] == '\'' || answer[start] == '*')) {
    ++start;
  }
  const absl::string_view rest = data::AsAbslView(answer.substr(start));
  for (const std::string& label : labels) {
    if (!absl::StartsWithIgnoreCase(rest, label)) continue;
    if (rest.size() > label.size() &&
        absl::ascii_isalnum(static_cast<unsigned char>(rest[label.size()]))) {
      continue;
    }
    return label;
  }
  return std::nullopt;
}

std::optional<std::string> ExtractFinalNumber(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && !IsDigit(text[end - 1])) --end;
  if (end == 0) return std::nullopt;

  // Walk left over digits, and over ',' or '.' only when a digit precedes them.
  size_t begin = end - 1;
  bool seen_point = false;
  while (begin > 0) {
    const char c = text[begin - 1];
    if (IsDigit(c)) {
      --begin;
    } else if ((c == ',' || (c == '.' && !seen_point)) && begin >= 2 && IsDigit(text[begin - 2])) {
      seen_point = seen_point || c == '.';
      --begin;
    } else {
      break;
    }
  }
  if (begin > 0 && text[begin - 1] == '-') --begin;
  return CanonicalNumber(text.substr(begin, end - begin));
}

std::optional<std::string> ExtractGsm8kReference(std::string_view answer) {
  const size_t marker = answer.rfind("####");
  if (marker == std::string_view::npos) return std::nullopt;
  return ExtractFinalNumber(answer.substr(marker + 4));
}

double TaskAccuracy::percent() const {
  return total == 0 ? 0.0 : 100.0 * static_cast<double>(correct) / static_cast<double>(total);
}

absl::StatusOr<TaskAccuracy> ComputeTaskAccuracy(data::TaskKind task,
                                                 const std::vector<AnswerWithReference>& items) {
  if (items.empty()) {
    return absl::InvalidArgumentError("task accuracy needs at least one answer, got 0");
  }
  const std::vector<std::string>& labels = data::TaskLabelWords(task);

  TaskAccuracy result;
  result.total = static_cast<int64_t>(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const AnswerWithReference& item = items[i];
    std::optional<std::string> expected;
    std::optional<std::string> got;
    if (task == data::TaskKind::kGsm8k) {
      expected = item.reference.find("####") != std::string::npos
                     ? ExtractGsm8kReference(item.reference)
                     : ExtractFinalNumber(item.reference);
      got = ExtractFinalNumber(item.answer);
    } else {
      expected = ExtractLeadingLabel(item.reference, labels);
      got = ExtractLeadingLabel(item.answer, labels);
    }
    if (!expected.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference of item ", i, " is \"", item.reference, "\"; expected ",
                       task == data::TaskKind::kGsm8k ? "a number" : "a label word of the task"));
    }
    if (!got.has_value()) {
      ++result.unparsed;
    } else if (*got == *expected) {
      ++result.correct;
    }
  }
  return result;
}

}  // namespace reftune::eval
