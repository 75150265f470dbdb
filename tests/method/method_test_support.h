// Shared fixtures of the method tests: the stories260K model and small alignment sets.
#ifndef REFTUNE_TESTS_METHOD_METHOD_TEST_SUPPORT_H_
#define REFTUNE_TESTS_METHOD_METHOD_TEST_SUPPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "core/data/record.h"
#include "core/model/checkpoint.h"
#include "core/model/transformer.h"

namespace reftune::method::testing {

// stories260K loaded from $REFTUNE_DATA_DIR; fails the test when missing.
struct TinyModel {
  model::Checkpoint checkpoint;
  model::Transformer model{nullptr};
};
std::unique_ptr<TinyModel> LoadTinyModel();

// `count` harmful prompts with a refusal answer and `count` harmless prompts with a story answer,
// marked in meta.harmful.
std::vector<data::Record> MakeAlignmentRecords(int count);

// A fresh temporary folder path (created).
std::string MakeTempFolder(const std::string& name);

}  // namespace reftune::method::testing

#endif  // REFTUNE_TESTS_METHOD_METHOD_TEST_SUPPORT_H_
