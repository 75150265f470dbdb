// A Llama-family decoder with named LoRA adapters on a frozen base.
#ifndef REFTUNE_CORE_MODEL_TRANSFORMER_H_
#define REFTUNE_CORE_MODEL_TRANSFORMER_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/checkpoint.h"
#include "core/model/config.h"
#include "core/model/forward_options.h"
#include "core/model/kv_cache.h"
#include "core/model/lora_config.h"
#include "core/model/rotary_embedding.h"
#include "core/model/transformer_block.h"

namespace reftune::model {

struct TransformerOptions {
  ModelConfig config;
  // Device of every weight, adapter and cache; fixed at construction (do not call ->to() later).
  torch::Device device = torch::kCPU;
};

// Checks that `config` describes a buildable model; the message names the field and the value.
absl::Status ValidateModelConfig(const ModelConfig& config);

// Token embedding, n_layers TransformerBlocks, a final RMSNorm and an lm_head (tied to the
// embedding when config.tied_embeddings). Base weights are frozen (requires_grad false); only
// adapter tensors are trainable.
//
// Thread safety: Forward and the const accessors may run from several threads at once, with
// different adapters and caches. Every adapter-changing call (AddAdapter, ImportAdapter,
// LoadAdapterTensors, RemoveAdapter, MergeAdapter, UnmergeAdapter) and LoadWeights must not
// overlap any other call. A merged adapter changes the base weights and so every forward pass.
class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(TransformerOptions options);

  // Re-creates all base weights (N(0, 0.02) matrices, unit norms) and drops all adapters.
  void reset();

  // Copies base weights keyed by Hugging Face names (Checkpoint::weights). Every expected tensor
  // must be present with its exact shape; `*.rotary_emb.inv_freq` entries are ignored.
  absl::Status LoadWeights(const std::map<std::string, torch::Tensor>& weights);

  // The live base weights under their Hugging Face names.
  std::map<std::string, torch::Tensor> NamedBaseWeights() const;

  // Runs the model on `input_ids` ([batch, seq] int64, each in [0, vocab_size)).
  // `attention_mask` ([batch, seq]) is nonzero for real tokens, and undefined means all are real.
  // Padding may be on the right (training) or on the left (generation). Each sequence's rotary
  // positions count its real tokens only. With `cache`, the tokens are appended after the cached ones and the cache
  // is updated; the mask then covers the new tokens only.
  absl::StatusOr<ForwardOutput> Forward(const torch::Tensor& input_ids,
                                        const torch::Tensor& attention_mask,
                                        const ForwardOptions& options,
                                        KvCache* cache = nullptr);

  // Allocates an empty cache for `batch` sequences of up to `capacity` tokens in total.
  KvCache NewKvCache(int64_t batch, int64_t capacity) const;

  // Adds adapter `name` on config.target_modules of every block: lora_A Kaiming-uniform with
  // a = sqrt(5) as in PEFT (uniform in +-1/sqrt(in_features)) drawn from a CPU generator seeded
  // with `seed`, lora_B zeros, so a fresh adapter leaves outputs unchanged.
  absl::Status AddAdapter(const std::string& name, const LoraConfig& config, uint64_t seed);

  // Adds adapter `name` with the tensors of `peft_tensors`, keyed by PEFT names
  // (base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight, ...). Every target
  // projection must have lora_A [r, in] and lora_B [out, r]; no other keys are accepted.
  absl::Status ImportAdapter(const std::string& name, const LoraConfig& config,
                             const std::map<std::string, torch::Tensor>& peft_tensors);

  // Overwrites the values of an existing adapter in place, so an optimizer that references its
  // tensors keeps working. Same keys and shapes as ImportAdapter.
  absl::Status LoadAdapterTensors(const std::string& name,
                                  const std::map<std::string, torch::Tensor>& peft_tensors);

  // Copies of the adapter's tensors on the CPU in float32, keyed by PEFT names.
  absl::StatusOr<std::map<std::string, torch::Tensor>> ExportAdapter(const std::string& name) const;

  // The live trainable tensors of the adapter, in a fixed order, with their PEFT names.
  absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>> AdapterParameters(
      const std::string& name) const;

  absl::Status RemoveAdapter(const std::string& name);
  // Adds scaling * B A into the base weights; forward passes with this adapter then skip its path.
  absl::Status MergeAdapter(const std::string& name);
  // Subtracts what MergeAdapter added, restoring the base weights up to float rounding.
  absl::Status UnmergeAdapter(const std::string& name);

  bool HasAdapter(const std::string& name) const { return adapters_.count(name) > 0; }
  // Returns the adapter's settings, or nullptr when there is none of that name.
  const LoraConfig* FindAdapterConfig(const std::string& name) const;
  std::vector<std::string> AdapterNames() const;

  const ModelConfig& config() const { return options_.config; }
  torch::Device device() const { return options_.device; }
  int64_t BaseParameterCount() const;

  torch::Tensor embed_tokens;
  torch::nn::ModuleList blocks{nullptr};
  torch::Tensor norm;
  // Undefined when the embedding is tied.
  torch::Tensor lm_head;

 private:
  absl::Status ValidateForwardInputs(const torch::Tensor& input_ids,
                                     const torch::Tensor& attention_mask,
                                     const ForwardOptions& options, const KvCache* cache) const;
  ForwardOutput RunForward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                           const ForwardOptions& options, KvCache* cache);
  TransformerBlock Block(int64_t layer) const;
  // Visits every (PEFT key prefix, projection) pair that `config` targets.
  std::vector<std::pair<std::string, LoraLinear>> TargetProjections(
      const LoraConfig& config) const;
  absl::Status ValidateAdapterTensors(const std::string& name, const LoraConfig& config,
                                      const std::map<std::string, torch::Tensor>& tensors) const;

  TransformerOptions options_;
  RotaryEmbedding rotary_;
  std::map<std::string, LoraConfig> adapters_;
};
TORCH_MODULE(Transformer);

// Returns each sequence's row of `hidden` ([batch, seq, dim], e.g. a ForwardOutput hidden state)
// at its last real token per `attention_mask` ([batch, seq]; undefined means the last position),
// as [batch, dim]. Works for left and right padding and keeps gradients.
torch::Tensor SelectLastTokens(const torch::Tensor& hidden, const torch::Tensor& attention_mask);

// Builds a transformer on `device` with the checkpoint's config and weights.
absl::StatusOr<Transformer> CreateTransformer(const Checkpoint& checkpoint, torch::Device device);

// Returns the PEFT key of a projection's adapter matrix, e.g.
// base_model.model.model.layers.3.mlp.down_proj.lora_B.weight for (3, "mlp.down_proj", 'B').
std::string PeftAdapterKey(int64_t layer, const std::string& projection_path, char matrix);

// Validates a LoraConfig: r >= 1, lora_alpha > 0, lora_dropout in [0, 1), known targets.
absl::Status ValidateLoraConfig(const LoraConfig& config);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TRANSFORMER_H_
