// Registered base models: where their weights and tokenizer are, their context length, answer
// end token and prompt template, and the teacher that customer jobs of the model use.
#ifndef REFTUNE_CORE_STORE_BASE_MODEL_STORE_H_
#define REFTUNE_CORE_STORE_BASE_MODEL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"

namespace reftune::store {

struct BaseModelRecord {
  std::string id;
  // Unique name that jobs refer to.
  std::string name;
  // "llama2c" or "hf_llama", as stored in the base_models table.
  std::string format;
  // Model file (llama2c) or folder (hf_llama).
  std::string path;
  // llama2.c tokenizer.bin or sentencepiece tokenizer.model; empty when unknown.
  std::string tokenizer_path;
  // Context length in tokens; 0 when unknown.
  int max_seq_len = 0;
  int64_t end_of_answer_token_id = 0;
  // Text with one {prompt} placeholder.
  std::string prompt_template;
  // Promoted teacher; unset until an operator promotes one.
  std::optional<std::string> active_teacher_id;
  absl::Time created_at;
};

// Thread-safe; `database` must outlive the store.
class BaseModelStore {
 public:
  explicit BaseModelStore(Database* database) : database_(database) {}

  // Inserts `model` (id and created_at are assigned). ALREADY_EXISTS for a taken name,
  // INVALID_ARGUMENT for an unknown format or a negative token id.
  absl::StatusOr<BaseModelRecord> Register(const BaseModelRecord& model);

  // NOT_FOUND when no model has that name.
  absl::StatusOr<BaseModelRecord> GetByName(const std::string& name);

  // Every base model, by name.
  absl::StatusOr<std::vector<BaseModelRecord>> List();

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_BASE_MODEL_STORE_H_
