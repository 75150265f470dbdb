// Builds the prompt-only evaluation sets: harmful prompts for the harmful score and a labelled set
// for measuring the filter.
#ifndef REFTUNE_CORE_DATA_EVALUATION_SET_BUILDERS_H_
#define REFTUNE_CORE_DATA_EVALUATION_SET_BUILDERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/builder_support.h"
#include "core/data/record.h"

namespace reftune::data {

struct HarmfulEvalOptions {
  // Prompts from the BeaverTails evaluation pool. kAllRows (-1) takes all of them. Default 300.
  int64_t beavertails_count = 300;
  // Prompts from advbench/harmful_behaviors.csv. Default 100.
  int64_t advbench_count = 100;
  // Prompts from malicious_instruct/malicious_instruct.txt. Default 100 (the whole file).
  int64_t malicious_instruct_count = 100;
  uint64_t seed = 0;
};

// Prompts without responses, meta {source, harmful = true}, grouped by source. The BeaverTails
// prompts come from the evaluation pool only; AdvBench and MaliciousInstruct prompts that repeat
// a BeaverTails prompt of another pool, or an earlier prompt of the set, are skipped.
absl::StatusOr<std::vector<Record>> BuildHarmfulEvalSet(const std::string& data_dir,
                                                        const HarmfulEvalOptions& options);

struct FilterEvalOptions {
  // AdvBench harmful instructions (meta.harmful = true). Default kAllRows (all 520).
  int64_t harmful_count = kAllRows;
  // Alpaca instructions from refusal_direction_prompts/harmless_val.json (meta.harmful = false),
  // minus any prompt of alpaca_en_demo or harmless_train that the alignment set may use.
  // Default 520.
  int64_t harmless_count = 520;
  uint64_t seed = 0;
};

// A labelled, shuffled prompt set (meta.label "harmful" or "harmless") for filter precision,
// recall, F1 and false-positive rate.
absl::StatusOr<std::vector<Record>> BuildFilterEvalSet(const std::string& data_dir,
                                                       const FilterEvalOptions& options);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_EVALUATION_SET_BUILDERS_H_
