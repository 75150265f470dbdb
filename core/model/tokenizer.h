// Text-to-token conversion shared by every model format.
#ifndef REFTUNE_CORE_MODEL_TOKENIZER_H_
#define REFTUNE_CORE_MODEL_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reftune::model {

// A tokenizer. Implementations are immutable after loading, so one instance may be shared by
// threads without locking.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes UTF-8 text (any bytes; those outside the vocabulary use byte-fallback tokens),
  // optionally framed by BOS and EOS.
  virtual std::vector<int64_t> Encode(std::string_view text, bool add_bos, bool add_eos) const = 0;

  // Decodes ids to text, skipping BOS and EOS. Byte-fallback tokens become their raw bytes.
  virtual std::string Decode(const std::vector<int64_t>& ids) const = 0;

  virtual int64_t vocab_size() const = 0;
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
};

// Loads a llama2.c tokenizer.bin (for example tok512.bin of stories260K).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadLlama2cTokenizer(const std::string& path);

// Loads a sentencepiece tokenizer.model through libsentencepiece.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TOKENIZER_H_
