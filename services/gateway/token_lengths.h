// Token-length check of a dataset against a job's max_seq_len, with the base model's tokenizer.
#ifndef REFTUNE_SERVICES_GATEWAY_TOKEN_LENGTHS_H_
#define REFTUNE_SERVICES_GATEWAY_TOKEN_LENGTHS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/model/tokenizer.h"

namespace reftune::gateway {

struct OverlongRecord {
  // 1-based line in the dataset file.
  int64_t line = 0;
  // Tokens of the record as training would see it.
  int64_t tokens = 0;
};

struct TokenLengthLimits {
  int max_seq_len = 256;
  // Answers are cut to this many tokens before the length is compared.
  int max_answer_tokens = 64;
};

// Returns the records of the JSONL file at `path` whose rendered prompt (with BOS), answer (cut
// to max_answer_tokens) and end-of-answer token together pass max_seq_len, in file order.
// Records that do not parse are skipped, because the file was validated when it was stored.
absl::StatusOr<std::vector<OverlongRecord>> FindOverlongRecords(
    const std::string& path, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const TokenLengthLimits& limits);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_TOKEN_LENGTHS_H_
