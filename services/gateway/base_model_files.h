// Reads what the gateway needs from a base model's files at registration: the context length and
// the end-of-answer token, without loading the weights.
#ifndef REFTUNE_SERVICES_GATEWAY_BASE_MODEL_FILES_H_
#define REFTUNE_SERVICES_GATEWAY_BASE_MODEL_FILES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace reftune::gateway {

struct BaseModelFacts {
  // Context length in tokens.
  int max_seq_len = 0;
  // The token that ends an answer by default: BOS for llama2.c models, the config's eos_token_id
  // for Hugging Face folders; unset when the files name none.
  std::optional<int64_t> end_of_answer_token_id;
  // Tokenizer file found next to the model; empty when none.
  std::string tokenizer_path;
};

// format "llama2c": `path` is a llama2.c checkpoint, whose header holds seq_len.
// format "huggingface": `path` is a folder with config.json (max_position_embeddings,
// eos_token_id) and usually tokenizer.model. INVALID_ARGUMENT or NOT_FOUND naming the path and
// the fix when the files are missing or malformed.
absl::StatusOr<BaseModelFacts> ReadBaseModelFacts(const std::string& format,
                                                  const std::string& path);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_BASE_MODEL_FILES_H_
