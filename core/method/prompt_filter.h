// The Ref-Teacher filter: w_i = 0 when CS(R^l, f_teacher^l(x_i)) > tau, else 1.
#ifndef REFTUNE_CORE_METHOD_PROMPT_FILTER_H_
#define REFTUNE_CORE_METHOD_PROMPT_FILTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/method/teacher_artifact.h"
#include "core/method/token_batch.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct FilterDecision {
  // Cosine similarity of the prompt's feature with R^l, in [-1, 1].
  double cosine = 0.0;
  // True when cosine > threshold: the row gets weight 0.
  bool filtered = false;
};

struct PromptFilterOptions {
  // Name under which the teacher adapter is installed in the model (it must already be there).
  std::string adapter = "teacher";
  // Overrides the teacher's threshold when set (for example 0.9, the value Ham et al. used for Llama models).
  std::optional<double> threshold;
  // Prompts per forward pass.
  int64_t batch_size = 64;
  // Prompt truncation; answers are not used.
  EncodeOptions encode;
};

// Scores prompts with the teacher, running only the blocks up to the teacher's layer.
// Score may be called from several threads at once (the model's Forward is thread-safe).
class PromptFilter {
 public:
  PromptFilter(model::Transformer model, std::shared_ptr<const model::Tokenizer> tokenizer,
               const TeacherArtifact& teacher, PromptFilterOptions options);

  // One decision per prompt, in order.
  absl::StatusOr<std::vector<FilterDecision>> Score(const std::vector<std::string>& prompts) const;

  double threshold() const { return threshold_; }
  int64_t layer() const { return layer_; }

 private:
  model::Transformer model_;
  std::shared_ptr<const model::Tokenizer> tokenizer_;
  data::PromptTemplate prompt_template_;
  torch::Tensor refusal_feature_;
  int64_t layer_;
  double threshold_;
  PromptFilterOptions options_;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_PROMPT_FILTER_H_
