// Builds the alignment set that trains and calibrates the refusal teacher.
#ifndef REFTUNE_CORE_DATA_ALIGNMENT_SET_BUILDER_H_
#define REFTUNE_CORE_DATA_ALIGNMENT_SET_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/record.h"

namespace reftune::data {

struct AlignmentSetOptions {
  // BeaverTails harmful prompts with their refusal answers in the training split. Default 500.
  int64_t harmful_count = 500;
  // alpaca_en_demo instructions with their answers in the training split. Default 500.
  int64_t harmless_count = 500;
  // Held-out BeaverTails harmful prompts for layer and threshold calibration. Default 200.
  int64_t calibration_harmful_count = 200;
  // Held-out harmless prompts for calibration, from the unused alpaca_en_demo rows and
  // refusal_direction_prompts/harmless_train.json. Default 200.
  int64_t calibration_harmless_count = 200;
  uint64_t seed = 0;
};

struct AlignmentSet {
  // Harmful rows (meta.harmful = true, response = refusal) and harmless rows (meta.harmful =
  // false, response = helpful answer), shuffled together.
  std::vector<Record> train;
  // Prompts disjoint from `train`, labelled by meta.harmful. Harmful rows keep their refusal;
  // harmless rows from harmless_train have no response.
  std::vector<Record> calibration;
};

// Draws harmful prompts only from the BeaverTails alignment pool (see BeaverTailsPool), so the
// set never shares a prompt with poison rows or harmful evaluation prompts.
absl::StatusOr<AlignmentSet> BuildAlignmentSet(const std::string& data_dir,
                                               const AlignmentSetOptions& options);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_ALIGNMENT_SET_BUILDER_H_
