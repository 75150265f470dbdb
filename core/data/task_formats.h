// User tasks: their names, instruction wording and answer format.
#ifndef REFTUNE_CORE_DATA_TASK_FORMATS_H_
#define REFTUNE_CORE_DATA_TASK_FORMATS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reftune::data {

enum class TaskKind {
  // Sentence sentiment; answers "negative" or "positive".
  kSst2,
  // News topic; answers "World", "Sports", "Business" or "Sci/Tech".
  kAgNews,
  // Grade-school math; answers end with "#### <number>".
  kGsm8k,
};

// Parses "sst2", "agnews" or "gsm8k".
absl::StatusOr<TaskKind> ParseTaskKind(std::string_view name);

std::string_view TaskName(TaskKind task);

// The answer words of a classification task, in label order (SST-2 label 0 first, AG News label 1
// first); empty for GSM8K.
const std::vector<std::string>& TaskLabelWords(TaskKind task);

// Wraps a source text in the task's instruction, for example
// "Classify the sentiment of this sentence as positive or negative.\nSentence: <text>".
std::string TaskPrompt(TaskKind task, std::string_view text);

// Removes GSM8K's calculator annotations "<<48/2=24>>" from an answer.
std::string StripCalculatorAnnotations(std::string_view answer);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_TASK_FORMATS_H_
