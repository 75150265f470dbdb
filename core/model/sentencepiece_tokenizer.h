// A Tokenizer backed by libsentencepiece, for the tokenizer.model of Hugging Face Llama folders.
#ifndef REFTUNE_CORE_MODEL_SENTENCEPIECE_TOKENIZER_H_
#define REFTUNE_CORE_MODEL_SENTENCEPIECE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/sentencepiece_backend.h"
#include "core/model/tokenizer.h"

namespace reftune::model {

// Wraps a sentencepiece model (BPE or unigram). Round trips of arbitrary text need a model trained
// with byte_fallback, the identity normalization rule and remove_extra_whitespaces off, as Llama
// tokenizers are, because other models normalise text on encode. The tokenizer is immutable after
// loading, and sentencepiece's Encode and Decode are const, so threads may share one.
class SentencePieceTokenizer : public Tokenizer {
 public:
  // Loads a serialised ModelProto. `source` names the file in error messages. Returns
  // FAILED_PRECONDITION when the libreftune_sentencepiece.so module cannot be opened. The module
  // is looked up at $REFTUNE_SENTENCEPIECE_MODULE, then where the build wrote it, then on the
  // library search path.
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> Parse(std::string_view bytes,
                                                                       const std::string& source);

  std::vector<int64_t> Encode(std::string_view text, bool add_bos, bool add_eos) const override;
  std::string Decode(const std::vector<int64_t>& ids) const override;

  int64_t vocab_size() const override;
  // The model's BOS and EOS ids, or -1 when the model defines none.
  int64_t bos_id() const override;
  int64_t eos_id() const override;

  // The serialised ModelProto, as written to tokenizer.model.
  std::string Serialize() const;

  // Writes Serialize() to `path`.
  absl::Status Save(const std::string& path) const;

 private:
  explicit SentencePieceTokenizer(std::unique_ptr<SentencePieceBackend> backend)
      : backend_(std::move(backend)) {}

  std::unique_ptr<SentencePieceBackend> backend_;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_SENTENCEPIECE_TOKENIZER_H_
