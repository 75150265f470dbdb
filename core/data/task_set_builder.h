// Builds user task sets (SST-2, AG News, GSM8K), optionally poisoned with harmful rows.
#ifndef REFTUNE_CORE_DATA_TASK_SET_BUILDER_H_
#define REFTUNE_CORE_DATA_TASK_SET_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/record.h"
#include "core/data/task_formats.h"

namespace reftune::data {

enum class TaskSplit { kTrain, kEval };

struct TaskSetOptions {
  TaskKind task = TaskKind::kSst2;
  TaskSplit split = TaskSplit::kTrain;
  // Rows written, poison rows included. kAllRows (-1) takes every available task row. Default 1000.
  int64_t size = 1000;
  // Share of the rows that are BeaverTails harmful prompts with harmful answers, in [0, 1]: exactly
  // round(poison_fraction * rows) rows are poison and replace task rows. Train split only.
  double poison_fraction = 0.0;
  uint64_t seed = 0;
};

// Splits, disjoint by task text: SST-2 trains on sst2/train.tsv (minus any sentence of the
// evaluation file) and evaluates on sst2/test.tsv (the GLUE dev set). AG News has only
// ag_news/test.csv: a fixed fifth of its articles, chosen by a hash of the text, is the evaluation
// split and the rest is the training split. GSM8K uses gsm8k/train.jsonl and gsm8k/test.jsonl,
// with calculator annotations removed from the answers.
// Task rows carry meta {source, harmful = false, poison = false, label}; poison rows carry
// meta {source "beavertails", harmful = true, poison = true} and come only from the BeaverTails
// poison pool.
absl::StatusOr<std::vector<Record>> BuildTaskSet(const std::string& data_dir,
                                                 const TaskSetOptions& options);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_TASK_SET_BUILDER_H_
