#include "core/data/evaluation_set_builders.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "core/common/status_macros.h"
#include "core/data/public_sources.h"
#include "core/data/sampling.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

// Shuffles `prompts`, skips those whose key is already in `used` and appends up to `requested`
// of the rest (kAllRows for all) as harmful prompt-only records.
absl::Status AppendHarmfulPrompts(std::vector<std::string> prompts, int64_t requested,
                                  uint64_t seed, const std::string& source,
                                  const std::string& flag,
                                  absl::flat_hash_set<std::string>& used,
                                  std::vector<Record>& out) {
  ShuffleWithSeed(prompts, seed);
  std::vector<std::string> fresh;
  for (std::string& prompt : prompts) {
    if (used.contains(NormalizeForMatch(prompt))) continue;
    used.insert(NormalizeForMatch(prompt));
    fresh.push_back(std::move(prompt));
  }
  REFTUNE_ASSIGN_OR_RETURN(const size_t count,
                           ResolveRowCount(requested, fresh.size(), source + " prompts", flag));
  for (size_t i = 0; i < count; ++i) {
    out.push_back(MakeRecord(std::move(fresh[i]), "", source, true, std::nullopt, "harmful"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Record>> BuildHarmfulEvalSet(const std::string& data_dir,
                                                        const HarmfulEvalOptions& options) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<BeaverTailsRow> beavertails, ReadBeaverTails(data_dir));
  absl::flat_hash_set<std::string> used;
  std::vector<std::string> evaluation_pool;
  for (BeaverTailsRow& row : beavertails) {
    if (PoolOfBeaverTailsPrompt(row.prompt) == BeaverTailsPool::kEvaluation) {
      evaluation_pool.push_back(std::move(row.prompt));
    } else {
      // Training prompts may never reach the evaluation set through another source either.
      used.insert(NormalizeForMatch(row.prompt));
    }
  }

  std::vector<Record> records;
  REFTUNE_RETURN_IF_ERROR(AppendHarmfulPrompts(
      std::move(evaluation_pool), options.beavertails_count,
      DeriveSeed(options.seed, "harmful-eval-beavertails"), "beavertails", "--beavertails",
      used, records));

  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> advbench, ReadAdvBench(data_dir));
  REFTUNE_RETURN_IF_ERROR(AppendHarmfulPrompts(std::move(advbench), options.advbench_count,
                                               DeriveSeed(options.seed, "harmful-eval-advbench"),
                                               "advbench", "--advbench", used, records));

  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> malicious, ReadMaliciousInstruct(data_dir));
  REFTUNE_RETURN_IF_ERROR(AppendHarmfulPrompts(
      std::move(malicious), options.malicious_instruct_count,
      DeriveSeed(options.seed, "harmful-eval-malicious"), "malicious_instruct",
      "--malicious-instruct", used, records));
  return records;
}

absl::StatusOr<std::vector<Record>> BuildFilterEvalSet(const std::string& data_dir,
                                                       const FilterEvalOptions& options) {
  absl::flat_hash_set<std::string> used;
  REFTUNE_ASSIGN_OR_RETURN(std::vector<Record> alpaca, ReadAlpacaDemo(data_dir));
  for (const Record& record : alpaca) used.insert(NormalizeForMatch(record.prompt));
  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<std::string> harmless_train,
      ReadInstructionList(data_dir, "refusal_direction_prompts/harmless_train.json"));
  for (const std::string& prompt : harmless_train) used.insert(NormalizeForMatch(prompt));

  std::vector<Record> records;
  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> advbench, ReadAdvBench(data_dir));
  REFTUNE_RETURN_IF_ERROR(AppendHarmfulPrompts(std::move(advbench), options.harmful_count,
                                               DeriveSeed(options.seed, "filter-eval-harmful"),
                                               "advbench", "--harmful", used, records));

  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<std::string> harmless,
      ReadInstructionList(data_dir, "refusal_direction_prompts/harmless_val.json"));
  ShuffleWithSeed(harmless, DeriveSeed(options.seed, "filter-eval-harmless"));
  std::vector<std::string> fresh;
  for (std::string& prompt : harmless) {
    if (used.insert(NormalizeForMatch(prompt)).second) fresh.push_back(std::move(prompt));
  }
  REFTUNE_ASSIGN_OR_RETURN(const size_t harmless_count,
                           ResolveRowCount(options.harmless_count, fresh.size(),
                                           "harmless filter-evaluation prompts", "--harmless"));
  for (size_t i = 0; i < harmless_count; ++i) {
    records.push_back(
        MakeRecord(std::move(fresh[i]), "", "harmless_val", false, std::nullopt, "harmless"));
  }

  ShuffleWithSeed(records, DeriveSeed(options.seed, "filter-eval-order"));
  return records;
}

}  // namespace reftune::data
