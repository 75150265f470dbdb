// The llama2.c tokenizer format (tokenizer.bin, for example tok512.bin of stories260K).
#ifndef REFTUNE_CORE_MODEL_LLAMA2C_TOKENIZER_H_
#define REFTUNE_CORE_MODEL_LLAMA2C_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/tokenizer.h"

namespace reftune::model {

// A sentencepiece-style BPE tokenizer stored in the llama2.c binary layout: an int32
// max_token_length, then for every token a float32 merge score, an int32 byte length and the
// piece bytes. Pieces use a plain space where sentencepiece uses U+2581. Ids 0, 1 and 2 are
// <unk>, BOS and EOS, and every byte value b has a fallback piece "<0xXX>" (id b + 3 in files
// written by llama2.c's export script).
//
// Encoding follows sentencepiece and llama2.c. The text gets a dummy prefix space when it is not
// empty and splits into one symbol per UTF-8 code point (per byte for invalid UTF-8). Symbols
// outside the vocabulary become byte-fallback tokens. Then the adjacent pair whose merged piece has
// the highest score (the leftmost pair on ties) merges, repeatedly.
//
// Immutable after construction, so one instance may be shared by threads.
class Llama2cTokenizer : public Tokenizer {
 public:
  // Parses the file contents. `source` names the file in error messages.
  static absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Parse(std::string_view bytes,
                                                                 const std::string& source);

  std::vector<int64_t> Encode(std::string_view text, bool add_bos, bool add_eos) const override;

  // Decodes ids to text, skipping BOS and EOS. The dummy prefix space is removed from the first
  // piece of the output and from the first piece after each BOS, as llama2.c does. Ids outside
  // the vocabulary decode to nothing.
  std::string Decode(const std::vector<int64_t>& ids) const override;

  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t bos_id() const override { return kBosId; }
  int64_t eos_id() const override { return kEosId; }

  // Returns the piece of `id` in the file's spelling (a plain space, not U+2581).
  const std::string& piece(int64_t id) const { return pieces_.at(id); }
  float score(int64_t id) const { return scores_.at(id); }

  // Serialises the tokenizer back to the llama2.c layout, byte for byte as it was read.
  std::string Serialize() const;

  // Writes Serialize() to `path`.
  absl::Status Save(const std::string& path) const;

 private:
  static constexpr int64_t kBosId = 1;
  static constexpr int64_t kEosId = 2;

  Llama2cTokenizer() = default;

  int32_t max_token_length_ = 0;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  // Keys view the strings in pieces_, which never change after Parse().
  std::unordered_map<std::string_view, int64_t> piece_to_id_;
  // byte_to_id_[b] is the id of piece "<0xXX>" for byte b.
  std::array<int64_t, 256> byte_to_id_{};
  // id_to_byte_[id] is the byte of a byte-fallback piece, or -1 for other pieces.
  std::vector<int16_t> id_to_byte_;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_LLAMA2C_TOKENIZER_H_
