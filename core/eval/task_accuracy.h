// Finetune accuracy: answer parsers and accuracy for SST-2, AG News and GSM8K.
#ifndef REFTUNE_CORE_EVAL_TASK_ACCURACY_H_
#define REFTUNE_CORE_EVAL_TASK_ACCURACY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/task_formats.h"

namespace reftune::eval {

// Returns the label word (spelled as in `labels`) that the answer starts with, ignoring case,
// leading whitespace and leading quotes or asterisks. The word must end there: "positively" is no
// match for "positive". nullopt when no label matches.
std::optional<std::string> ExtractLeadingLabel(std::string_view answer,
                                               const std::vector<std::string>& labels);

// Returns the last number in `text` in canonical form: no thousands commas, no "+", no leading
// zeros, no trailing decimal zeros ("1,200.50" -> "1200.5", "-3.0" -> "-3"). nullopt when `text`
// has no digit.
std::optional<std::string> ExtractFinalNumber(std::string_view text);

// Returns the canonical number after the last "####" of a GSM8K answer, nullopt without one.
std::optional<std::string> ExtractGsm8kReference(std::string_view answer);

struct AnswerWithReference {
  std::string answer;
  // The label word (SST-2, AG News), or for GSM8K the reference number or a full reference answer
  // ending with "#### <number>".
  std::string reference;
};

struct TaskAccuracy {
  int64_t total = 0;
  int64_t correct = 0;
  // Answers from which no label or number could be read; they count as wrong.
  int64_t unparsed = 0;

  // correct / total in percent (0-100).
  double percent() const;
};

// INVALID_ARGUMENT when `items` is empty or a reference cannot be parsed (the message names the
// item index and the reference).
absl::StatusOr<TaskAccuracy> ComputeTaskAccuracy(data::TaskKind task,
                                                 const std::vector<AnswerWithReference>& items);

}  // namespace reftune::eval

#endif  // REFTUNE_CORE_EVAL_TASK_ACCURACY_H_
