// Text generation with a finetuned LoRA adapter on its base model, for the customer Generate call.
#ifndef REFTUNE_SERVICES_FILTER_ADAPTER_GENERATOR_H_
#define REFTUNE_SERVICES_FILTER_ADAPTER_GENERATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/model/generation.h"
#include "services/filter/base_model_registry.h"
#include "services/filter/base_model_spec.h"

namespace reftune::filter {

// Key of an adapter's reftune.json naming the teacher folder whose adapter was merged into the
// base weights while the adapter trained; generation then runs on that sum.
inline constexpr char kMergedTeacherMetadataKey[] = "requires_merged_teacher_adapter";

// Bounds of one generation request.
inline constexpr int kMaxGenerationPrompts = 16;
inline constexpr int kMaxGenerationNewTokens = 512;
inline constexpr size_t kMaxGenerationPromptBytes = 16 * 1024;

struct AdapterGenerationRequest {
  BaseModelSpec base_model;
  // Folder in the PEFT layout (adapter_config.json, adapter_model.safetensors); empty generates
  // with the base model alone. See kMergedTeacherMetadataKey for adapters trained on a merged
  // teacher.
  std::string adapter_folder;
  // 1 to kMaxGenerationPrompts raw prompts, each at most kMaxGenerationPromptBytes.
  std::vector<std::string> prompts;
  // Template that renders each prompt. Unset: base_model.prompt_template, else Alpaca.
  std::optional<data::PromptTemplate> prompt_template;
  // max_new_tokens in [1, kMaxGenerationNewTokens]; `adapter` is set by the generator.
  model::GenerationOptions generation;
};

// Thread-safe. Generate runs model work on the calling thread, so call it from the model
// executor's threads only.
class AdapterGenerator {
 public:
  // `bases` is not owned and must outlive the generator.
  explicit AdapterGenerator(BaseModelRegistry* bases) : bases_(bases) {}

  // Installs the adapter (if any) on the shared base model for the call's duration, or on a
  // private copy with the teacher merged when the adapter requires it. Then it generates until
  // the base model's end-of-answer token, EOS or max_new_tokens, and returns one completion per
  // prompt. INVALID_ARGUMENT names the field and value outside its bounds, including a prompt
  // whose tokens plus max_new_tokens exceed the model's context length.
  absl::StatusOr<std::vector<std::string>> Generate(const AdapterGenerationRequest& request);

 private:
  BaseModelRegistry* bases_;
};

// Checks the prompts and max_new_tokens against their bounds; the base model is not checked.
absl::Status ValidateGenerationRequest(const AdapterGenerationRequest& request);

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_ADAPTER_GENERATOR_H_
