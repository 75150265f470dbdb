// The interface between reftune and libsentencepiece, which lives in a separately loaded module.
//
// Debian 12's libsentencepiece.so.0 (0.1.97) contains its own copy of protobuf-lite 3.14 and
// exports those symbols. LibTorch loads libprotobuf.so.32 (3.21), and in one global symbol scope
// each library binds to the other's protobuf functions, which crashes at start-up or fails the
// protobuf version check. So only the module libreftune_sentencepiece.so links libsentencepiece,
// and reftune opens it with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), which keeps both protobuf copies
// apart. Calls cross the boundary through this header's virtual functions only, and the header
// includes no Abseil header because sentencepiece's header defines absl::string_view itself.
#ifndef REFTUNE_CORE_MODEL_SENTENCEPIECE_BACKEND_H_
#define REFTUNE_CORE_MODEL_SENTENCEPIECE_BACKEND_H_

#include <string>
#include <string_view>
#include <vector>

namespace reftune::model {

// One sentencepiece::SentencePieceProcessor. Const methods are safe to call from several threads.
class SentencePieceBackend {
 public:
  virtual ~SentencePieceBackend() = default;

  // Loads a serialised ModelProto. Returns an empty string on success, else sentencepiece's error.
  virtual std::string Load(std::string_view serialized_model) = 0;

  // Returns the piece ids of `text`, or none when no model is loaded.
  virtual std::vector<int> Encode(std::string_view text) const = 0;
  virtual std::string Decode(const std::vector<int>& ids) const = 0;

  virtual int piece_count() const = 0;
  // -1 when the model defines no such token.
  virtual int bos_id() const = 0;
  virtual int eos_id() const = 0;
  virtual std::string serialized_model() const = 0;
};

// Name of the factory function that the module exports with C linkage. It returns a new
// backend that the caller owns.
inline constexpr char kSentencePieceBackendFactory[] = "reftune_create_sentencepiece_backend";
using SentencePieceBackendFactory = SentencePieceBackend* (*)();

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_SENTENCEPIECE_BACKEND_H_
