// The libreftune_sentencepiece.so module: SentencePieceBackend on top of libsentencepiece.
// It includes no Abseil header (see sentencepiece_backend.h for why).
#include <memory>

#include "core/model/sentencepiece_backend.h"
#include "sentencepiece_processor.h"

namespace reftune::model {
namespace {

class LibrarySentencePieceBackend : public SentencePieceBackend {
 public:
  std::string Load(std::string_view serialized_model) override {
    const sentencepiece::util::Status status =
        processor_.LoadFromSerializedProto(serialized_model);
    return status.ok() ? std::string() : status.ToString();
  }

  std::vector<int> Encode(std::string_view text) const override {
    std::vector<int> ids;
    // Encode fails when no model is loaded, and then leaves `ids` empty.
    processor_.Encode(text, &ids).IgnoreError();
    return ids;
  }

  std::string Decode(const std::vector<int>& ids) const override {
    std::string text;
    processor_.Decode(ids, &text).IgnoreError();
    return text;
  }

  int piece_count() const override { return processor_.GetPieceSize(); }
  int bos_id() const override { return processor_.bos_id(); }
  int eos_id() const override { return processor_.eos_id(); }
  std::string serialized_model() const override { return processor_.serialized_model_proto(); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace
}  // namespace reftune::model

extern "C" __attribute__((visibility("default"))) reftune::model::SentencePieceBackend*
reftune_create_sentencepiece_backend() {
  return new reftune::model::LibrarySentencePieceBackend();
}
