// A narrow, absl-free view of libsentencepiece's SentencePieceProcessor.
//
// sentencepiece 0.1.97's header declares `namespace absl { using std::string_view; }`, which
// collides with Abseil's own absl::string_view class in Debian 12 (Abseil 20220623 does not alias
// std::string_view). Only sentencepiece_processor_handle.cc includes that header, and it includes
// no Abseil header, so no other file includes both.
#ifndef REFTUNE_CORE_MODEL_SENTENCEPIECE_PROCESSOR_HANDLE_H_
#define REFTUNE_CORE_MODEL_SENTENCEPIECE_PROCESSOR_HANDLE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace reftune::model {

class SentencePieceProcessorHandle {
 public:
  SentencePieceProcessorHandle();
  ~SentencePieceProcessorHandle();

  // Loads a serialised ModelProto. Returns an empty string on success, else sentencepiece's error.
  std::string Load(std::string_view serialized_model);

  // Appends the piece ids of `text` to `ids` (none when no model is loaded).
  void Encode(std::string_view text, std::vector<int>* ids) const;
  std::string Decode(const std::vector<int>& ids) const;

  int piece_count() const;
  int bos_id() const;
  int eos_id() const;
  std::string serialized_model() const;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_SENTENCEPIECE_PROCESSOR_HANDLE_H_
