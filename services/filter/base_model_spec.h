// Where a base model's files are and how to load them, as the filter service receives it from a
// teacher folder, the database or a generation request.
#ifndef REFTUNE_SERVICES_FILTER_BASE_MODEL_SPEC_H_
#define REFTUNE_SERVICES_FILTER_BASE_MODEL_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/checkpoint.h"
#include "nlohmann/json.hpp"

namespace reftune::filter {

struct BaseModelSpec {
  // Registered name, used in logs and messages only.
  std::string name;
  // "llama2c" (a model file plus a tokenizer file) or "huggingface" (a folder). "hf_llama", the
  // spelling of the base_models table, is accepted as "huggingface".
  std::string format;
  // Model file (llama2c) or folder (huggingface).
  std::string path;
  // llama2.c tokenizer.bin; required for llama2c, ignored for huggingface folders.
  std::string tokenizer_path;
  // Token that ends a generated answer; unset keeps the checkpoint's own setting.
  std::optional<int64_t> end_of_answer_id;
  // Registered prompt template text with one {prompt} placeholder; empty means Alpaca. Teachers
  // carry their own template, so only generation reads this.
  std::string prompt_template;

  // Identity of the weights in memory: two specs with equal keys share one model.
  std::string Key() const;
};

// Checks the format and that the paths are set; the message names the field and the value.
absl::Status ValidateBaseModelSpec(const BaseModelSpec& spec);

// Reads {"name", "format", "path", "tokenizer_path", "end_of_answer_token_id",
// "prompt_template"} (the last three optional). Relative paths are taken relative to
// `base_folder`. `source` names the JSON's origin in error messages.
absl::StatusOr<BaseModelSpec> BaseModelSpecFromJson(const nlohmann::json& json,
                                                    const std::string& source,
                                                    const std::string& base_folder);

// Loads the checkpoint and its tokenizer, and applies spec.end_of_answer_id to its config.
// FAILED_PRECONDITION when the files cannot be read, because the registration, not the request,
// needs fixing.
absl::StatusOr<model::Checkpoint> LoadBaseCheckpoint(const BaseModelSpec& spec);

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_BASE_MODEL_SPEC_H_
