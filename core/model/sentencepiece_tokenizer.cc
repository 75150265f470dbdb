#include "core/model/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/model/file_bytes.h"

namespace reftune::model {
namespace {

constexpr char kModuleEnvironmentVariable[] = "REFTUNE_SENTENCEPIECE_MODULE";
constexpr char kModuleFileName[] = "libreftune_sentencepiece.so";

// Opens the sentencepiece module in its own symbol scope (see sentencepiece_backend.h) and
// returns its factory. The module stays loaded for the life of the process.
absl::StatusOr<SentencePieceBackendFactory> OpenBackendModule() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv(kModuleEnvironmentVariable); path != nullptr && *path) {
    candidates.push_back(path);
  }
#ifdef REFTUNE_SENTENCEPIECE_MODULE_PATH
  candidates.push_back(REFTUNE_SENTENCEPIECE_MODULE_PATH);
#endif
  candidates.push_back(kModuleFileName);

  std::vector<std::string> errors;
  for (const std::string& path : candidates) {
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (module == nullptr) {
      errors.push_back(dlerror());
      continue;
    }
    void* factory = dlsym(module, kSentencePieceBackendFactory);
    if (factory == nullptr) {
      errors.push_back(absl::StrCat(path, " has no ", kSentencePieceBackendFactory));
      continue;
    }
    return reinterpret_cast<SentencePieceBackendFactory>(factory);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot open the sentencepiece module ", kModuleFileName, " (", absl::StrJoin(errors, "; "),
      "); build the reftune_sentencepiece target or set ", kModuleEnvironmentVariable,
      " to the module's path"));
}

absl::StatusOr<std::unique_ptr<SentencePieceBackend>> NewBackend() {
  static const auto* const factory =
      new absl::StatusOr<SentencePieceBackendFactory>(OpenBackendModule());
  if (!factory->ok()) return factory->status();
  return std::unique_ptr<SentencePieceBackend>((**factory)());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::Parse(
    std::string_view bytes, const std::string& source) {
  REFTUNE_ASSIGN_OR_RETURN(std::unique_ptr<SentencePieceBackend> backend, NewBackend());
  const std::string error = backend->Load(bytes);
  if (!error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sentencepiece model ", source, " is invalid: ", error));
  }
  return std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer(std::move(backend)));
}

std::vector<int64_t> SentencePieceTokenizer::Encode(std::string_view text, bool add_bos,
                                                    bool add_eos) const {
  const std::vector<int> pieces = backend_->Encode(text);
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
  return backend_->Decode(pieces);
}

int64_t SentencePieceTokenizer::vocab_size() const { return backend_->piece_count(); }

int64_t SentencePieceTokenizer::bos_id() const { return backend_->bos_id(); }

int64_t SentencePieceTokenizer::eos_id() const { return backend_->eos_id(); }

std::string SentencePieceTokenizer::Serialize() const { return backend_->serialized_model(); }

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
