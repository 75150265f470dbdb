#include "core/model/sentencepiece_tokenizer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/model/file_bytes.h"

namespace reftune::model {

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::Parse(
    std::string_view bytes, const std::string& source) {
  std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer());
  const std::string error = tokenizer->processor_.Load(bytes);
  if (!error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sentencepiece model ", source, " is invalid: ", error));
  }
  return tokenizer;
}

std::vector<int64_t> SentencePieceTokenizer::Encode(std::string_view text, bool add_bos,
                                                    bool add_eos) const {
  std::vector<int> pieces;
  processor_.Encode(text, &pieces);

  std::vector<int64_t> ids;
  ids.reserve(pieces.size() + 2);
  if (add_bos && bos_id() >= 0) ids.push_back(bos_id());
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  if (add_eos && eos_id() >= 0) ids.push_back(eos_id());
  return ids;
}

std::string SentencePieceTokenizer::Decode(const std::vector<int64_t>& ids) const {
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size() || id == bos_id() || id == eos_id()) continue;
    pieces.push_back(static_cast<int>(id));
  }
  return processor_.Decode(pieces);
}

int64_t SentencePieceTokenizer::vocab_size() const { return processor_.piece_count(); }

int64_t SentencePieceTokenizer::bos_id() const { return processor_.bos_id(); }

int64_t SentencePieceTokenizer::eos_id() const { return processor_.eos_id(); }

std::string SentencePieceTokenizer::Serialize() const {
  return processor_.serialized_model();
}

absl::Status SentencePieceTokenizer::Save(const std::string& path) const {
  return WriteFileBytes(path, Serialize(), "sentencepiece model");
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path) {
  REFTUNE_ASSIGN_OR_RETURN(const std::string bytes, ReadFileBytes(path, "sentencepiece model"));
  auto parsed = SentencePieceTokenizer::Parse(bytes, path);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<Tokenizer>(std::move(parsed).value());
}

}  // namespace reftune::model
