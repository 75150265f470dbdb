// Real teachers and adapters for the filter suite, built once per test binary on stories260K.
// Each teacher is a LoRA adapter with random lora_B values, so that it changes the model, and a
// refusal feature computed from BeaverTails harmful prompts and Alpaca instructions. The files are
// written with SaveTeacher.
#ifndef REFTUNE_TESTS_FILTER_FILTER_FIXTURE_H_
#define REFTUNE_TESTS_FILTER_FILTER_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "core/method/prompt_filter.h"
#include "services/filter/base_model_spec.h"
#include "services/filter/filter_server.h"

namespace reftune::filter::testing {

struct FilterFixture {
  // Folder with one subfolder per teacher: "teacher-a", "teacher-b" and "teacher-c".
  std::string teacher_root;
  std::vector<std::string> teacher_ids;
  // Base model catalog file naming "stories260K".
  std::string base_models_file;
  BaseModelSpec stories;
  // PEFT adapter folders for generation tests. The second one's reftune.json names teacher-a as
  // merged into the base while it trained.
  std::string adapter_folder;
  std::string merged_adapter_folder;
  // Harmful prompts first, then harmless ones.
  std::vector<std::string> prompts;
  size_t harmful_count = 0;
};

// Builds the fixture on first use; fails the calling test when the data cannot be read.
const FilterFixture& Fixture();

// A filter over a separate stories260K model with the teacher installed, as the method library
// offers it to callers that score in-process.
std::unique_ptr<method::PromptFilter> DirectFilter(const std::string& teacher_id);

// Options of a server on 127.0.0.1 with a free port, the fixture's teacher root and catalog.
FilterServerOptions TestServerOptions();

}  // namespace reftune::filter::testing

#endif  // REFTUNE_TESTS_FILTER_FILTER_FIXTURE_H_
