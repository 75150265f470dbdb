#include "core/data/task_formats.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/data/text_normalization.h"

namespace reftune::data {

absl::StatusOr<TaskKind> ParseTaskKind(std::string_view name) {
  if (name == "sst2") return TaskKind::kSst2;
  if (name == "agnews") return TaskKind::kAgNews;
  if (name == "gsm8k") return TaskKind::kGsm8k;
  return absl::InvalidArgumentError(absl::StrCat("unknown task \"", AsAbslView(name),
                                                 "\"; expected sst2, agnews or gsm8k"));
}

std::string_view TaskName(TaskKind task) {
  switch (task) {
    case TaskKind::kSst2:
      return "sst2";
    case TaskKind::kAgNews:
      return "agnews";
    case TaskKind::kGsm8k:
      return "gsm8k";
  }
  return "sst2";
}

const std::vector<std::string>& TaskLabelWords(TaskKind task) {
  static const auto* const kSst2Labels = new std::vector<std::string>{"negative", "positive"};
  static const auto* const kAgNewsLabels =
      new std::vector<std::string>{"World", "Sports", "Business", "Sci/Tech"};
  static const auto* const kNoLabels = new std::vector<std::string>{};
  switch (task) {
    case TaskKind::kSst2:
      return *kSst2Labels;
    case TaskKind::kAgNews:
      return *kAgNewsLabels;
    case TaskKind::kGsm8k:
      return *kNoLabels;
  }
  return *kNoLabels;
}

std::string TaskPrompt(TaskKind task, std::string_view text) {
  switch (task) {
    case TaskKind::kSst2:
      return absl::StrCat("Classify the sentiment of this sentence as positive or negative.\n"
                          "Sentence: ",
                          AsAbslView(text));
    case TaskKind::kAgNews:
      return absl::StrCat("Classify the topic of this news article as World, Sports, Business "
                          "or Sci/Tech.\nArticle: ",
                          AsAbslView(text));
    case TaskKind::kGsm8k:
      return absl::StrCat("Solve this math problem. Show your steps and give the final number "
                          "after \"####\".\nQuestion: ",
                          AsAbslView(text));
  }
  return std::string(text);
}

std::string StripCalculatorAnnotations(std::string_view answer) {
  std::string out;
  out.reserve(answer.size());
  size_t i = 0;
  while (i < answer.size()) {
    if (answer.compare(i, 2, "<<") == 0) {
      const size_t close = answer.find(">>", i + 2);
      if (close != std::string_view::npos) {
        i = close + 2;
        continue;
      }
    }
    out.push_back(answer[i]);
    ++i;
  }
  return out;
}

}  // namespace reftune::data
