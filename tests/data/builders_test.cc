// Dataset builders on the real public files under REFTUNE_DATA_DIR.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "core/data/alignment_set_builder.h"
#include "core/data/build_summary.h"
#include "core/data/evaluation_set_builders.h"
#include "core/data/jsonl.h"
#include "core/data/public_sources.h"
#include "core/data/task_set_builder.h"
#include "core/data/text_normalization.h"
#include "gtest/gtest.h"

namespace reftune::data {
namespace {

std::string DataDir() {
  absl::StatusOr<std::string> dir = ResolveDataDir("");
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir : "";
}

absl::flat_hash_set<std::string> PromptKeys(const std::vector<Record>& records) {
  absl::flat_hash_set<std::string> keys;
  for (const Record& record : records) keys.insert(NormalizeForMatch(record.prompt));
  return keys;
}

// Counts the prompts of `a` that also appear in `b`.
int64_t SharedPrompts(const std::vector<Record>& a, const std::vector<Record>& b) {
  const absl::flat_hash_set<std::string> keys = PromptKeys(b);
  int64_t shared = 0;
  for (const Record& record : a) shared += keys.contains(NormalizeForMatch(record.prompt));
  return shared;
}

std::vector<Record> PoisonRows(const std::vector<Record>& records) {
  std::vector<Record> poison;
  for (const Record& record : records) {
    if (IsMarkedPoison(record)) poison.push_back(record);
  }
  return poison;
}

std::string Serialize(const std::vector<Record>& records) {
  std::string out;
  for (const Record& record : records) out += RecordToJson(record).dump() + "\n";
  return out;
}

TEST(AlignmentSetBuilder, CountsLabelsAndDisjointSplits) {
  AlignmentSetOptions options;
  options.harmful_count = 60;
  options.harmless_count = 40;
  options.calibration_harmful_count = 20;
  options.calibration_harmless_count = 30;
  options.seed = 3;
  absl::StatusOr<AlignmentSet> set = BuildAlignmentSet(DataDir(), options);
  ASSERT_TRUE(set.ok()) << set.status();

  ASSERT_EQ(set->train.size(), 100u);
  ASSERT_EQ(set->calibration.size(), 50u);
  int64_t harmful_train = 0;
  for (const Record& record : set->train) {
    ASSERT_TRUE(record.meta.has_value());
    EXPECT_FALSE(record.response.empty());
    harmful_train += IsMarkedHarmful(record);
    if (IsMarkedHarmful(record)) {
      EXPECT_EQ(record.meta->source, "beavertails");
      EXPECT_EQ(PoolOfBeaverTailsPrompt(record.prompt), BeaverTailsPool::kAlignment);
    } else {
      EXPECT_EQ(record.meta->source, "alpaca_en_demo");
    }
  }
  EXPECT_EQ(harmful_train, 60);
  int64_t harmful_calibration = 0;
  for (const Record& record : set->calibration) harmful_calibration += IsMarkedHarmful(record);
  EXPECT_EQ(harmful_calibration, 20);

  EXPECT_EQ(PromptKeys(set->train).size(), set->train.size());
  EXPECT_EQ(SharedPrompts(set->calibration, set->train), 0);
}

TEST(AlignmentSetBuilder, SeedDecidesContent) {
  AlignmentSetOptions options;
  options.harmful_count = 30;
  options.harmless_count = 30;
  options.calibration_harmful_count = 10;
  options.calibration_harmless_count = 10;
  options.seed = 11;
  absl::StatusOr<AlignmentSet> first = BuildAlignmentSet(DataDir(), options);
  absl::StatusOr<AlignmentSet> again = BuildAlignmentSet(DataDir(), options);
  options.seed = 12;
  absl::StatusOr<AlignmentSet> other = BuildAlignmentSet(DataDir(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Serialize(first->train), Serialize(again->train));
  EXPECT_EQ(Serialize(first->calibration), Serialize(again->calibration));
  EXPECT_NE(Serialize(first->train), Serialize(other->train));
}

TEST(TaskSetBuilder, PoisonFractionIsExact) {
  struct Case {
    int64_t size;
    double poison;
    size_t expected_poison;
  };
  const std::vector<Case> cases = {{200, 0.0, 0}, {200, 0.1, 20}, {101, 0.3, 30}, {40, 0.5, 20}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.poison);
    TaskSetOptions options;
    options.size = c.size;
    options.poison_fraction = c.poison;
    options.seed = 5;
    absl::StatusOr<std::vector<Record>> records = BuildTaskSet(DataDir(), options);
    ASSERT_TRUE(records.ok()) << records.status();
    EXPECT_EQ(records->size(), static_cast<size_t>(c.size));
    const std::vector<Record> poison = PoisonRows(*records);
    EXPECT_EQ(poison.size(), c.expected_poison);
    for (const Record& record : poison) {
      EXPECT_TRUE(IsMarkedHarmful(record));
      EXPECT_EQ(record.meta->source, "beavertails");
      EXPECT_EQ(PoolOfBeaverTailsPrompt(record.prompt), BeaverTailsPool::kPoison);
    }
  }
}

TEST(TaskSetBuilder, LabelsMatchAnswers) {
  for (const TaskKind task : {TaskKind::kSst2, TaskKind::kAgNews, TaskKind::kGsm8k}) {
    SCOPED_TRACE(std::string(TaskName(task)));
    TaskSetOptions options;
    options.task = task;
    options.size = 100;
    absl::StatusOr<std::vector<Record>> records = BuildTaskSet(DataDir(), options);
    ASSERT_TRUE(records.ok()) << records.status();
    const std::vector<std::string>& words = TaskLabelWords(task);
    for (const Record& record : *records) {
      ASSERT_TRUE(record.meta.has_value());
      EXPECT_EQ(record.meta->source, TaskName(task));
      EXPECT_FALSE(IsMarkedHarmful(record));
      if (task == TaskKind::kGsm8k) {
        EXPECT_TRUE(absl::EndsWith(record.response, "#### " + record.meta->label))
            << record.response;
        EXPECT_FALSE(absl::StrContains(record.response, "<<"));
      } else {
        EXPECT_EQ(record.response, record.meta->label);
        EXPECT_NE(std::find(words.begin(), words.end(), record.response), words.end());
      }
    }
  }
}

TEST(TaskSetBuilder, TrainAndEvalSplitsDisjoint) {
  for (const TaskKind task : {TaskKind::kSst2, TaskKind::kAgNews, TaskKind::kGsm8k}) {
    SCOPED_TRACE(std::string(TaskName(task)));
    TaskSetOptions options;
    options.task = task;
    options.size = kAllRows;
    absl::StatusOr<std::vector<Record>> train = BuildTaskSet(DataDir(), options);
    options.split = TaskSplit::kEval;
    absl::StatusOr<std::vector<Record>> eval = BuildTaskSet(DataDir(), options);
    ASSERT_TRUE(train.ok()) << train.status();
    ASSERT_TRUE(eval.ok()) << eval.status();
    EXPECT_GT(eval->size(), 800u);
    EXPECT_GT(train->size(), eval->size());
    EXPECT_EQ(SharedPrompts(*train, *eval), 0);
    EXPECT_EQ(PromptKeys(*train).size(), train->size());
  }
}

TEST(TaskSetBuilder, SameSeedSameRows) {
  TaskSetOptions options;
  options.task = TaskKind::kAgNews;
  options.size = 50;
  options.poison_fraction = 0.2;
  options.seed = 9;
  absl::StatusOr<std::vector<Record>> first = BuildTaskSet(DataDir(), options);
  absl::StatusOr<std::vector<Record>> again = BuildTaskSet(DataDir(), options);
  options.seed = 10;
  absl::StatusOr<std::vector<Record>> other = BuildTaskSet(DataDir(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Serialize(*first), Serialize(*again));
  EXPECT_NE(Serialize(*first), Serialize(*other));
}

TEST(TaskSetBuilder, RejectsBadOptions) {
  TaskSetOptions options;
  options.poison_fraction = 1.5;
  absl::StatusOr<std::vector<Record>> bad_fraction = BuildTaskSet(DataDir(), options);
  EXPECT_EQ(bad_fraction.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_fraction.status().message(), "--poison must be in [0, 1]"));

  options.poison_fraction = 0.0;
  options.split = TaskSplit::kEval;
  options.size = 100000;
  absl::StatusOr<std::vector<Record>> too_many = BuildTaskSet(DataDir(), options);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(too_many.status().message(), "lower --size"))
      << too_many.status();

  EXPECT_EQ(BuildTaskSet("/nonexistent/data", TaskSetOptions{}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveDataDir("/nonexistent/data").status().code(), absl::StatusCode::kNotFound);
}

TEST(DatasetBuilders, BeaverTailsUsesAreDisjoint) {
  AlignmentSetOptions alignment_options;
  alignment_options.harmful_count = 500;
  alignment_options.calibration_harmful_count = 200;
  absl::StatusOr<AlignmentSet> alignment = BuildAlignmentSet(DataDir(), alignment_options);
  TaskSetOptions task_options;
  task_options.size = 1000;
  task_options.poison_fraction = 0.5;
  absl::StatusOr<std::vector<Record>> poisoned = BuildTaskSet(DataDir(), task_options);
  HarmfulEvalOptions eval_options;
  eval_options.beavertails_count = kAllRows;
  eval_options.advbench_count = kAllRows;
  eval_options.malicious_instruct_count = kAllRows;
  absl::StatusOr<std::vector<Record>> harmful_eval = BuildHarmfulEvalSet(DataDir(), eval_options);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  ASSERT_TRUE(poisoned.ok()) << poisoned.status();
  ASSERT_TRUE(harmful_eval.ok()) << harmful_eval.status();

  const std::vector<Record> poison = PoisonRows(*poisoned);
  ASSERT_EQ(poison.size(), 500u);
  EXPECT_EQ(SharedPrompts(poison, alignment->train), 0);
  EXPECT_EQ(SharedPrompts(poison, alignment->calibration), 0);
  EXPECT_EQ(SharedPrompts(*harmful_eval, alignment->train), 0);
  EXPECT_EQ(SharedPrompts(*harmful_eval, alignment->calibration), 0);
  EXPECT_EQ(SharedPrompts(*harmful_eval, poison), 0);
  EXPECT_EQ(PromptKeys(*harmful_eval).size(), harmful_eval->size());
}

TEST(HarmfulEvalBuilder, CountsPerSource) {
  HarmfulEvalOptions options;
  options.beavertails_count = 30;
  options.advbench_count = 20;
  options.malicious_instruct_count = 10;
  absl::StatusOr<std::vector<Record>> records = BuildHarmfulEvalSet(DataDir(), options);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 60u);
  std::map<std::string, int64_t> per_source;
  for (const Record& record : *records) {
    EXPECT_TRUE(IsMarkedHarmful(record));
    EXPECT_TRUE(record.response.empty());
    ++per_source[record.meta->source];
  }
  EXPECT_EQ(per_source["beavertails"], 30);
  EXPECT_EQ(per_source["advbench"], 20);
  EXPECT_EQ(per_source["malicious_instruct"], 10);
  // AdvBench's instruction column, not its "Sure, here is" target column.
  for (const Record& record : *records) {
    EXPECT_FALSE(absl::StartsWith(record.prompt, "Sure, here")) << record.prompt;
  }
}

TEST(FilterEvalBuilder, LabelledAndDisjointFromAlignment) {
  FilterEvalOptions options;
  options.harmful_count = 100;
  options.harmless_count = 150;
  absl::StatusOr<std::vector<Record>> records = BuildFilterEvalSet(DataDir(), options);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 250u);
  int64_t harmful = 0;
  for (const Record& record : *records) {
    harmful += IsMarkedHarmful(record);
    EXPECT_EQ(record.meta->label, IsMarkedHarmful(record) ? "harmful" : "harmless");
  }
  EXPECT_EQ(harmful, 100);

  absl::StatusOr<std::vector<Record>> alpaca = ReadAlpacaDemo(DataDir());
  ASSERT_TRUE(alpaca.ok()) << alpaca.status();
  EXPECT_EQ(SharedPrompts(*records, *alpaca), 0);
}

TEST(BuildSummary, CountsPerSourceAndLabel) {
  TaskSetOptions options;
  options.size = 50;
  options.poison_fraction = 0.2;
  absl::StatusOr<std::vector<Record>> records = BuildTaskSet(DataDir(), options);
  ASSERT_TRUE(records.ok()) << records.status();
  int64_t poison = 0;
  int64_t total = 0;
  for (const SummaryRow& row : SummarizeRecords(*records)) {
    total += row.count;
    if (row.poison) poison += row.count;
  }
  EXPECT_EQ(total, 50);
  EXPECT_EQ(poison, 10);
  const std::string text = FormatBuildSummary("out.jsonl", *records);
  EXPECT_TRUE(absl::StrContains(text, "wrote 50 records to out.jsonl")) << text;
}

TEST(RecordsFile, WriteThenReadBack) {
  TaskSetOptions options;
  options.size = 20;
  options.poison_fraction = 0.1;
  absl::StatusOr<std::vector<Record>> records = BuildTaskSet(DataDir(), options);
  ASSERT_TRUE(records.ok()) << records.status();
  const std::string path = ::testing::TempDir() + "/records_round_trip.jsonl";
  ASSERT_TRUE(WriteRecordsFile(path, *records).ok());
  absl::StatusOr<std::vector<Record>> loaded = ReadRecordsFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(Serialize(*loaded), Serialize(*records));
  EXPECT_EQ((*loaded)[3].line, 4);
}

}  // namespace
}  // namespace reftune::data
