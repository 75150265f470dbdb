#include "core/data/task_set_builder.h"

#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/builder_support.h"
#include "core/data/public_sources.h"
#include "core/data/sampling.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

// One source row before the task wrapper: its text, answer and meta label.
struct TaskRow {
  std::string text;
  std::string answer;
  std::string label;
};

bool IsAgNewsEvalText(const std::string& text) {
  return StableHash64(NormalizeForMatch(text)) % 5 == 0;
}

std::vector<TaskRow> LabelledToRows(const std::vector<LabelledText>& rows, TaskKind task,
                                    int first_label) {
  const std::vector<std::string>& words = TaskLabelWords(task);
  std::vector<TaskRow> out;
  out.reserve(rows.size());
  for (const LabelledText& row : rows) {
    const std::string& word = words[static_cast<size_t>(row.label - first_label)];
    out.push_back({row.text, word, word});
  }
  return out;
}

absl::StatusOr<std::vector<TaskRow>> ReadSst2Rows(const std::string& data_dir, TaskSplit split) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<LabelledText> eval, ReadSst2(data_dir, "sst2/test.tsv"));
  if (split == TaskSplit::kEval) return LabelledToRows(eval, TaskKind::kSst2, 0);

  absl::flat_hash_set<std::string> eval_keys;
  for (const LabelledText& row : eval) eval_keys.insert(NormalizeForMatch(row.text));
  REFTUNE_ASSIGN_OR_RETURN(std::vector<LabelledText> train, ReadSst2(data_dir, "sst2/train.tsv"));
  std::vector<LabelledText> kept;
  for (LabelledText& row : train) {
    if (!eval_keys.contains(NormalizeForMatch(row.text))) kept.push_back(std::move(row));
  }
  return LabelledToRows(kept, TaskKind::kSst2, 0);
}

absl::StatusOr<std::vector<TaskRow>> ReadAgNewsRows(const std::string& data_dir,
                                                    TaskSplit split) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<LabelledText> all, ReadAgNews(data_dir));
  std::vector<LabelledText> kept;
  for (LabelledText& row : all) {
    if (IsAgNewsEvalText(row.text) == (split == TaskSplit::kEval)) kept.push_back(std::move(row));
  }
  return LabelledToRows(kept, TaskKind::kAgNews, 1);
}

absl::StatusOr<std::vector<TaskRow>> ReadGsm8kRows(const std::string& data_dir,
                                                   TaskSplit split) {
  const std::string file = split == TaskSplit::kEval ? "gsm8k/test.jsonl" : "gsm8k/train.jsonl";
  REFTUNE_ASSIGN_OR_RETURN(std::vector<QuestionAnswer> rows, ReadGsm8k(data_dir, file));
  std::vector<TaskRow> out;
  for (QuestionAnswer& row : rows) {
    const size_t marker = row.answer.rfind("####");
    if (marker == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(data_dir, "/", file, ": answer without "
                                                     "\"####\": ", row.answer.substr(0, 80)));
    }
    std::string label(absl::StripAsciiWhitespace(row.answer.substr(marker + 4)));
    out.push_back({std::move(row.question), StripCalculatorAnnotations(row.answer),
                   std::move(label)});
  }
  return out;
}

// Keeps the first row of each task text so that no prompt repeats within a split.
std::vector<TaskRow> DeduplicateRows(std::vector<TaskRow> rows) {
  absl::flat_hash_set<std::string> seen;
  std::vector<TaskRow> out;
  for (TaskRow& row : rows) {
    if (seen.insert(NormalizeForMatch(row.text)).second) out.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<std::vector<TaskRow>> ReadTaskRows(const std::string& data_dir,
                                                  const TaskSetOptions& options) {
  switch (options.task) {
    case TaskKind::kSst2:
      return ReadSst2Rows(data_dir, options.split);
    case TaskKind::kAgNews:
      return ReadAgNewsRows(data_dir, options.split);
    case TaskKind::kGsm8k:
      return ReadGsm8kRows(data_dir, options.split);
  }
  return absl::InvalidArgumentError("unknown task kind");
}

absl::Status CheckOptions(const TaskSetOptions& options) {
  if (!(options.poison_fraction >= 0.0 && options.poison_fraction <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("--poison must be in [0, 1], got ",
                                                   options.poison_fraction));
  }
  if (options.split == TaskSplit::kEval && options.poison_fraction > 0.0) {
    return absl::InvalidArgumentError(absl::StrCat("--poison ", options.poison_fraction,
                                                   " applies to the train split only; drop it "
                                                   "for --split eval"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Record>> BuildTaskSet(const std::string& data_dir,
                                                 const TaskSetOptions& options) {
  REFTUNE_RETURN_IF_ERROR(CheckOptions(options));
  REFTUNE_ASSIGN_OR_RETURN(std::vector<TaskRow> rows, ReadTaskRows(data_dir, options));
  rows = DeduplicateRows(std::move(rows));
  ShuffleWithSeed(rows, DeriveSeed(options.seed, "task-rows"));

  // With kAllRows the total is every task row; poison rows then replace part of them.
  const std::string source(TaskName(options.task));
  REFTUNE_ASSIGN_OR_RETURN(const size_t total,
                           ResolveRowCount(options.size, rows.size(),
                                           absl::StrCat(source, " rows"), "--size"));
  const auto poison_count =
      static_cast<size_t>(std::llround(options.poison_fraction * static_cast<double>(total)));

  std::vector<Record> records;
  records.reserve(total);
  for (size_t i = 0; i + poison_count < total; ++i) {
    records.push_back(MakeRecord(TaskPrompt(options.task, rows[i].text),
                                 std::move(rows[i].answer), source, false, false,
                                 std::move(rows[i].label)));
  }

  if (poison_count > 0) {
    REFTUNE_ASSIGN_OR_RETURN(std::vector<BeaverTailsRow> pool,
                             ReadBeaverTailsPool(data_dir, BeaverTailsPool::kPoison));
    ShuffleWithSeed(pool, DeriveSeed(options.seed, "task-poison"));
    REFTUNE_ASSIGN_OR_RETURN(const size_t available,
                             ResolveRowCount(static_cast<int64_t>(poison_count), pool.size(),
                                             "BeaverTails poison rows", "--size or --poison"));
    for (size_t i = 0; i < available; ++i) {
      records.push_back(MakeRecord(std::move(pool[i].prompt), std::move(pool[i].unsafe),
                                   "beavertails", true, true));
    }
  }

  ShuffleWithSeed(records, DeriveSeed(options.seed, "task-order"));
  return records;
}

}  // namespace reftune::data
