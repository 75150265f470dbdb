#include "core/data/alignment_set_builder.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "core/common/status_macros.h"
#include "core/data/builder_support.h"
#include "core/data/public_sources.h"
#include "core/data/sampling.h"
#include "core/data/text_normalization.h"

namespace reftune::data {
namespace {

absl::Status AddHarmfulRows(const std::string& data_dir, const AlignmentSetOptions& options,
                            AlignmentSet& set) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<BeaverTailsRow> pool,
                           ReadBeaverTailsPool(data_dir, BeaverTailsPool::kAlignment));
  ShuffleWithSeed(pool, DeriveSeed(options.seed, "alignment-harmful"));

  REFTUNE_ASSIGN_OR_RETURN(const size_t train_count,
                           ResolveRowCount(options.harmful_count, pool.size(),
                                           "harmful alignment prompts", "--harmful"));
  REFTUNE_ASSIGN_OR_RETURN(
      const size_t calibration_count,
      ResolveRowCount(options.calibration_harmful_count, pool.size() - train_count,
                      "harmful calibration prompts (after the training rows)",
                      "--calibration-harmful"));

  for (size_t i = 0; i < train_count + calibration_count; ++i) {
    Record record = MakeRecord(std::move(pool[i].prompt), std::move(pool[i].safe), "beavertails",
                               true, std::nullopt);
    (i < train_count ? set.train : set.calibration).push_back(std::move(record));
  }
  return absl::OkStatus();
}

absl::Status AddHarmlessRows(const std::string& data_dir, const AlignmentSetOptions& options,
                             AlignmentSet& set) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<Record> alpaca, ReadAlpacaDemo(data_dir));
  ShuffleWithSeed(alpaca, DeriveSeed(options.seed, "alignment-harmless"));

  // Deduplicated training rows first; every prompt already used is excluded from calibration.
  absl::flat_hash_set<std::string> used;
  for (const Record& record : set.train) used.insert(NormalizeForMatch(record.prompt));
  for (const Record& record : set.calibration) used.insert(NormalizeForMatch(record.prompt));

  std::vector<Record> unique;
  for (Record& record : alpaca) {
    if (used.contains(NormalizeForMatch(record.prompt))) continue;
    used.insert(NormalizeForMatch(record.prompt));
    unique.push_back(std::move(record));
  }
  REFTUNE_ASSIGN_OR_RETURN(const size_t train_count,
                           ResolveRowCount(options.harmless_count, unique.size(),
                                           "harmless alignment rows", "--harmless"));
  std::vector<Record> calibration_pool;
  for (size_t i = 0; i < unique.size(); ++i) {
    Record record = MakeRecord(std::move(unique[i].prompt), std::move(unique[i].response),
                               "alpaca_en_demo", false, std::nullopt);
    if (i < train_count) {
      set.train.push_back(std::move(record));
    } else {
      calibration_pool.push_back(std::move(record));
    }
  }

  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<std::string> harmless_prompts,
      ReadInstructionList(data_dir, "refusal_direction_prompts/harmless_train.json"));
  for (std::string& prompt : harmless_prompts) {
    if (!used.insert(NormalizeForMatch(prompt)).second) continue;
    calibration_pool.push_back(
        MakeRecord(std::move(prompt), "", "harmless_train", false, std::nullopt));
  }
  ShuffleWithSeed(calibration_pool, DeriveSeed(options.seed, "alignment-calibration-harmless"));
  REFTUNE_ASSIGN_OR_RETURN(
      const size_t calibration_count,
      ResolveRowCount(options.calibration_harmless_count, calibration_pool.size(),
                      "harmless calibration prompts", "--calibration-harmless"));
  for (size_t i = 0; i < calibration_count; ++i) {
    set.calibration.push_back(std::move(calibration_pool[i]));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AlignmentSet> BuildAlignmentSet(const std::string& data_dir,
                                               const AlignmentSetOptions& options) {
  AlignmentSet set;
  REFTUNE_RETURN_IF_ERROR(AddHarmfulRows(data_dir, options, set));
  REFTUNE_RETURN_IF_ERROR(AddHarmlessRows(data_dir, options, set));
  ShuffleWithSeed(set.train, DeriveSeed(options.seed, "alignment-train-order"));
  ShuffleWithSeed(set.calibration, DeriveSeed(options.seed, "alignment-calibration-order"));
  return set;
}

}  // namespace reftune::data
