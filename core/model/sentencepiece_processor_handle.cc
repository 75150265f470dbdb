// Includes no Abseil header; see the header comment.
#include "core/model/sentencepiece_processor_handle.h"

#include "sentencepiece_processor.h"

namespace reftune::model {

SentencePieceProcessorHandle::SentencePieceProcessorHandle()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceProcessorHandle::~SentencePieceProcessorHandle() = default;

std::string SentencePieceProcessorHandle::Load(std::string_view serialized_model) {
  const sentencepiece::util::Status status =
      processor_->LoadFromSerializedProto(serialized_model);
  return status.ok() ? std::string() : status.ToString();
}

void SentencePieceProcessorHandle::Encode(std::string_view text, std::vector<int>* ids) const {
  std::vector<int> pieces;
  // Encode fails when no model is loaded, and then leaves `pieces` empty.
  processor_->Encode(text, &pieces).IgnoreError();
  ids->insert(ids->end(), pieces.begin(), pieces.end());
}

std::string SentencePieceProcessorHandle::Decode(const std::vector<int>& ids) const {
  std::string text;
  processor_->Decode(ids, &text).IgnoreError();
  return text;
}

int SentencePieceProcessorHandle::piece_count() const { return processor_->GetPieceSize(); }

int SentencePieceProcessorHandle::bos_id() const { return processor_->bos_id(); }

int SentencePieceProcessorHandle::eos_id() const { return processor_->eos_id(); }

std::string SentencePieceProcessorHandle::serialized_model() const {
  return processor_->serialized_model_proto();
}

}  // namespace reftune::model
