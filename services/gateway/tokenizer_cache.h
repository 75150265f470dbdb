// Tokenizers of registered base models, loaded once per file and shared by CreateJob calls.
#ifndef REFTUNE_SERVICES_GATEWAY_TOKENIZER_CACHE_H_
#define REFTUNE_SERVICES_GATEWAY_TOKENIZER_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/tokenizer.h"

namespace reftune::gateway {

// Thread-safe. Tokenizers are immutable, so callers share them without locking.
class TokenizerCache {
 public:
  // Returns the tokenizer in `path`: a llama2.c tokenizer.bin for format "llama2c", a
  // sentencepiece tokenizer.model for "hf_llama". Loads it on first use. NOT_FOUND or
  // INVALID_ARGUMENT naming the path when it cannot be loaded.
  absl::StatusOr<std::shared_ptr<const model::Tokenizer>> Get(const std::string& format,
                                                              const std::string& path);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const model::Tokenizer>> loaded_;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_TOKENIZER_CACHE_H_
