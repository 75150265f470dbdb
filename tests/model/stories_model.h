// The stories260K checkpoint and its golden outputs, loaded once per test binary.
#ifndef REFTUNE_TESTS_MODEL_STORIES_MODEL_H_
#define REFTUNE_TESTS_MODEL_STORIES_MODEL_H_

#include <vector>

#include "core/model/checkpoint.h"
#include "core/model/transformer.h"
#include "nlohmann/json.hpp"

namespace reftune::model::testing {

// stories260K.bin with tok512.bin; fails the calling test when they cannot be loaded.
const Checkpoint& Stories260kCheckpoint();

// A fresh CPU transformer with the stories260K weights and no adapters.
Transformer NewStories260kModel();

// The parsed golden file.
const nlohmann::json& Stories260kGolden();

// A [1, n] int64 tensor of `ids`.
torch::Tensor IdsTensor(const std::vector<int64_t>& ids);

}  // namespace reftune::model::testing

#endif  // REFTUNE_TESTS_MODEL_STORIES_MODEL_H_
