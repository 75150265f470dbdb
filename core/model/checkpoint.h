// Base-model checkpoints: the llama2.c binary format and Hugging Face Llama folders.
#ifndef REFTUNE_CORE_MODEL_CHECKPOINT_H_
#define REFTUNE_CORE_MODEL_CHECKPOINT_H_

#include <map>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/model/config.h"
#include "core/model/tokenizer.h"

namespace reftune::model {

// A loaded base model: its architecture, its weights and its tokenizer.
struct Checkpoint {
  ModelConfig config;
  // float32 CPU tensors under Hugging Face Llama names: model.embed_tokens.weight,
  // model.layers.{i}.input_layernorm.weight, model.layers.{i}.self_attn.{q,k,v,o}_proj.weight,
  // model.layers.{i}.post_attention_layernorm.weight, model.layers.{i}.mlp.{gate,up,down}_proj.weight,
  // model.norm.weight, and lm_head.weight unless config.tied_embeddings. The q and k rows are in
  // the layout that config.rope_style expects.
  std::map<std::string, torch::Tensor> weights;
  std::shared_ptr<const Tokenizer> tokenizer;
};

// Loads a llama2.c checkpoint (a header of 7 int32, then float32 weights; a negative vocab size
// means a separate classifier) and its tokenizer.bin. The result uses RopeStyle::kInterleaved and
// end_of_answer_id = BOS, because llama2.c's models separate texts with BOS and never learned EOS.
// An empty tokenizer_path leaves Checkpoint::tokenizer null.
absl::StatusOr<Checkpoint> LoadLlama2cCheckpoint(const std::string& model_path,
                                                 const std::string& tokenizer_path);

// Loads a Hugging Face Llama folder: config.json, one or more *.safetensors and tokenizer.model.
// The result uses RopeStyle::kHalf.
absl::StatusOr<Checkpoint> LoadHuggingFaceCheckpoint(const std::string& folder);

// Writes `checkpoint` as a Hugging Face Llama folder (config.json, model.safetensors). q and k rows
// are permuted from the interleaved to the half rotary layout when needed, so that loading the
// folder back gives the same logits.
absl::Status SaveHuggingFaceCheckpoint(const Checkpoint& checkpoint, const std::string& folder);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_CHECKPOINT_H_
