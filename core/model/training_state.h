// Everything a LoRA training run needs to continue exactly after a restart.
#ifndef REFTUNE_CORE_MODEL_TRAINING_STATE_H_
#define REFTUNE_CORE_MODEL_TRAINING_STATE_H_

#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reftune::model {

struct TrainingState {
  // Optimizer steps completed.
  int64_t step = 0;
  // The caller's position in its data order, e.g. examples consumed; stored as given.
  int64_t data_position = 0;
  // Seed the run derives its data order and per-step dropout generators from.
  uint64_t seed = 0;
  // Adapter tensors keyed by PEFT names (Transformer::ExportAdapter).
  std::map<std::string, torch::Tensor> adapter;
  // Optimizer moments (AdamW::StateTensors) and the optimizer's step count.
  std::map<std::string, torch::Tensor> optimizer;
  int64_t optimizer_step = 0;
  // Optional state of a random generator the run keeps across steps (at::Generator::get_state());
  // undefined when the run seeds its generators from (seed, step) instead.
  torch::Tensor generator_state;
};

// Writes `state` to the file `path` (a LibTorch archive), through a temporary file and a rename,
// so a crash never leaves a half-written state under `path`. Tensors are stored on the CPU.
absl::Status SaveTrainingState(const TrainingState& state, const std::string& path);

// Reads a file written by SaveTrainingState. Tensors come back on the CPU.
absl::StatusOr<TrainingState> LoadTrainingState(const std::string& path);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TRAINING_STATE_H_
