#include "services/gateway/tokenizer_cache.h"

#include "absl/strings/str_cat.h"

namespace reftune::gateway {

absl::StatusOr<std::shared_ptr<const model::Tokenizer>> TokenizerCache::Get(
    const std::string& format, const std::string& path) {
  const std::string key = absl::StrCat(format, ":", path);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = loaded_.find(key);
    if (it != loaded_.end()) return it->second;
  }

  // Loading happens outside the lock; two first calls may both load, and one result is kept.
  absl::StatusOr<std::unique_ptr<model::Tokenizer>> tokenizer =
      format == "llama2c" ? model::LoadLlama2cTokenizer(path)
                          : model::LoadSentencePieceTokenizer(path);
  if (!tokenizer.ok()) return tokenizer.status();

  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] =
      loaded_.emplace(key, std::shared_ptr<const model::Tokenizer>(std::move(*tokenizer)));
  return it->second;
}

}  // namespace reftune::gateway
