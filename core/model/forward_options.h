// Per-call settings of a transformer forward pass and what it returns.
#ifndef REFTUNE_CORE_MODEL_FORWARD_OPTIONS_H_
#define REFTUNE_CORE_MODEL_FORWARD_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace reftune::model {

// Everything a forward pass may vary per call. The adapter is chosen here, not stored in the
// model, so two threads can run the same model with different adapters at once.
struct ForwardOptions {
  // LoRA adapter to apply; empty runs the frozen base alone.
  std::string adapter;
  // Applies the adapter's lora_dropout (training). False for scoring, evaluation and generation.
  bool apply_dropout = false;
  // Generator for the dropout masks, of the model's device type; unset uses LibTorch's default
  // generator, which is shared global state and makes a resumed run differ. Seed one per step
  // for reproducible training.
  c10::optional<at::Generator> dropout_generator;
  // Blocks (0-based) whose output residual stream is returned in ForwardOutput::hidden_states,
  // in this order. The residual is taken before the final RMSNorm.
  std::vector<int64_t> hidden_layers;
  // False stops after the highest block in hidden_layers and skips the final norm and lm_head.
  bool compute_logits = true;
  // Computes logits for the last position only (generation), giving [batch, 1, vocab].
  bool last_position_logits_only = false;
};

struct ForwardOutput {
  // [batch, seq, vocab] float logits; undefined when compute_logits is false.
  torch::Tensor logits;
  // One [batch, seq, dim] tensor per entry of ForwardOptions::hidden_layers.
  std::vector<torch::Tensor> hidden_states;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_FORWARD_OPTIONS_H_
