#include "core/model/llama2c_tokenizer.h"

#include <cstdio>
#include <cstring>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/model/file_bytes.h"
#include "absl/strings/str_format.h"

namespace reftune::model {
namespace {

// Length in bytes of the UTF-8 sequence that starts at text[pos], or 1 when the bytes there are
// not valid UTF-8, so that invalid input falls back to one byte token per byte.
size_t CodePointLength(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t length = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 1;
  }
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return length;
}

// Reads a little-endian POD value at `offset`. Returns false when the bytes run past the end.
template <typename T>
bool ReadValue(std::string_view bytes, size_t offset, T* value) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(value, bytes.data() + offset, sizeof(T));
  return true;
}

// One symbol of the text during BPE merging: a span of the prefixed text, linked to its
// neighbours. A symbol with length 0 has been merged into its left neighbour.
struct Symbol {
  size_t start = 0;
  size_t length = 0;
  int prev = -1;
  int next = -1;
  // False for a symbol outside the vocabulary, which is emitted as byte tokens and never merged.
  bool in_vocab = true;
};

// A candidate merge of symbols[left] with its right neighbour. It is stale when either symbol has
// changed since it was queued, which the recorded lengths detect.
struct MergeCandidate {
  float score = 0;
  int left = 0;
  int right = 0;
  size_t left_length = 0;
  size_t right_length = 0;
};

// Orders the queue by highest score first, then by leftmost position.
struct MergeOrder {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Llama2cTokenizer::Parse(
    std::string_view bytes, const std::string& source) {
  std::unique_ptr<Llama2cTokenizer> tokenizer(new Llama2cTokenizer());
  if (!ReadValue(bytes, 0, &tokenizer->max_token_length_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c tokenizer ", source, " is ", bytes.size(),
        " bytes, too short for the int32 max_token_length header"));
  }

  size_t offset = sizeof(int32_t);
  while (offset < bytes.size()) {
    const size_t index = tokenizer->pieces_.size();
    float score = 0;
    int32_t length = 0;
    if (!ReadValue(bytes, offset, &score) ||
        !ReadValue(bytes, offset + sizeof(float), &length)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "llama2.c tokenizer ", source, " is truncated in the header of token ", index,
          " at byte offset ", offset));
    }
    offset += sizeof(float) + sizeof(int32_t);
    if (length < 0 || static_cast<size_t>(length) > bytes.size() - offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          "llama2.c tokenizer ", source, ": token ", index, " has length ", length,
          " but only ", bytes.size() - offset, " bytes remain at offset ", offset));
    }
    tokenizer->scores_.push_back(score);
    tokenizer->pieces_.emplace_back(bytes.substr(offset, length));
    offset += length;
  }
  if (tokenizer->pieces_.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c tokenizer ", source, " has ", tokenizer->pieces_.size(),
        " tokens; expected at least <unk>, BOS and EOS"));
  }

  // Index the pieces. The first occurrence wins if a piece repeats.
  tokenizer->id_to_byte_.assign(tokenizer->pieces_.size(), -1);
  tokenizer->byte_to_id_.fill(-1);
  for (size_t id = 0; id < tokenizer->pieces_.size(); ++id) {
    const std::string& piece = tokenizer->pieces_[id];
    tokenizer->piece_to_id_.emplace(piece, static_cast<int64_t>(id));
    unsigned int byte = 0;
    char tail = 0;
    if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%2X>%c", &byte, &tail) == 1 &&
        piece == absl::StrFormat("<0x%02X>", byte) && tokenizer->byte_to_id_[byte] < 0) {
      tokenizer->byte_to_id_[byte] = static_cast<int64_t>(id);
      tokenizer->id_to_byte_[id] = static_cast<int16_t>(byte);
    }
  }
  for (int byte = 0; byte < 256; ++byte) {
    if (tokenizer->byte_to_id_[byte] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "llama2.c tokenizer %s has no byte-fallback piece <0x%02X>, but reftune needs all "
          "256 byte pieces to encode arbitrary text",
          source, byte));
    }
  }
  return tokenizer;
}

std::vector<int64_t> Llama2cTokenizer::Encode(std::string_view text, bool add_bos,
                                              bool add_eos) const {
  std::vector<int64_t> ids;
  if (add_bos) ids.push_back(kBosId);
  if (text.empty()) {
    if (add_eos) ids.push_back(kEosId);
    return ids;
  }

  // Split the text, with its dummy prefix space, into one symbol per code point.
  const std::string prefixed = std::string(" ").append(text);
  const std::string_view view(prefixed);
  std::vector<Symbol> symbols;
  symbols.reserve(prefixed.size());
  for (size_t pos = 0; pos < prefixed.size();) {
    Symbol symbol;
    symbol.start = pos;
    symbol.length = CodePointLength(view, pos);
    symbol.prev = static_cast<int>(symbols.size()) - 1;
    symbol.next = -1;
    symbol.in_vocab = piece_to_id_.count(view.substr(pos, symbol.length)) > 0;
    if (!symbols.empty()) symbols.back().next = static_cast<int>(symbols.size());
    symbols.push_back(symbol);
    pos += symbol.length;
  }

  // Queue every adjacent pair whose concatenation is a piece, then merge best-first. Each merge
  // queues at most two new pairs, so encoding takes O(n log n) for n code points.
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, MergeOrder> queue;
  auto try_queue = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[right];
    if (!a.in_vocab || !b.in_vocab) return;
    auto found = piece_to_id_.find(view.substr(a.start, a.length + b.length));
    if (found == piece_to_id_.end()) return;
    queue.push({scores_[found->second], left, right, a.length, b.length});
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    try_queue(static_cast<int>(i), static_cast<int>(i + 1));
  }
  while (!queue.empty()) {
    const MergeCandidate candidate = queue.top();
    queue.pop();
    Symbol& left = symbols[candidate.left];
    Symbol& right = symbols[candidate.right];
    if (left.length != candidate.left_length || right.length != candidate.right_length ||
        left.next != candidate.right) {
      continue;
    }
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = candidate.left;
    try_queue(left.prev, candidate.left);
    try_queue(candidate.left, left.next);
  }

  // Emit the surviving symbols in order.
  for (int i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& symbol = symbols[i];
    const std::string_view span = view.substr(symbol.start, symbol.length);
    if (symbol.in_vocab) {
      ids.push_back(piece_to_id_.at(span));
      continue;
    }
    for (char byte : span) ids.push_back(byte_to_id_[static_cast<unsigned char>(byte)]);
  }
  if (add_eos) ids.push_back(kEosId);
  return ids;
}

std::string Llama2cTokenizer::Decode(const std::vector<int64_t>& ids) const {
  std::string text;
  bool at_text_start = true;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size() || id == kEosId) continue;
    if (id == kBosId) {
      at_text_start = true;
      continue;
    }
    if (id_to_byte_[id] >= 0) {
      text.push_back(static_cast<char>(id_to_byte_[id]));
    } else {
      std::string_view piece = pieces_[id];
      if (at_text_start && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
      text.append(piece);
    }
    at_text_start = false;
  }
  return text;
}

std::string Llama2cTokenizer::Serialize() const {
  std::string bytes;
  auto append = [&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
  };
  append(&max_token_length_, sizeof(max_token_length_));
  for (size_t id = 0; id < pieces_.size(); ++id) {
    const int32_t length = static_cast<int32_t>(pieces_[id].size());
    append(&scores_[id], sizeof(float));
    append(&length, sizeof(length));
    bytes.append(pieces_[id]);
  }
  return bytes;
}

absl::Status Llama2cTokenizer::Save(const std::string& path) const {
  return WriteFileBytes(path, Serialize(), "llama2.c tokenizer");
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadLlama2cTokenizer(const std::string& path) {
  REFTUNE_ASSIGN_OR_RETURN(const std::string bytes, ReadFileBytes(path, "llama2.c tokenizer"));
  auto parsed = Llama2cTokenizer::Parse(bytes, path);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<Tokenizer>(std::move(parsed).value());
}

}  // namespace reftune::model
