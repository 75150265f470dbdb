// LoadHuggingFaceCheckpoint and SaveHuggingFaceCheckpoint (declared in checkpoint.h).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/model/checkpoint.h"
#include "core/model/file_bytes.h"
#include "core/model/hf_config.h"
#include "core/model/llama2c_tokenizer.h"
#include "core/model/safetensors.h"
#include "core/model/safetensors_torch.h"
#include "core/model/sentencepiece_tokenizer.h"
#include "nlohmann/json.hpp"

namespace reftune::model {
namespace {

namespace fs = std::filesystem;

constexpr char kShardIndexFile[] = "model.safetensors.index.json";
constexpr char kSingleWeightsFile[] = "model.safetensors";

std::string ShapeString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Loads tokenizer.model (sentencepiece) or, failing that, a llama2.c tokenizer.bin, which
// SaveHuggingFaceCheckpoint writes for llama2.c models that have no sentencepiece model.
absl::StatusOr<std::shared_ptr<const Tokenizer>> LoadFolderTokenizer(const fs::path& folder) {
  if (fs::exists(folder / "tokenizer.model")) {
    REFTUNE_ASSIGN_OR_RETURN(auto tokenizer,
                             LoadSentencePieceTokenizer((folder / "tokenizer.model").string()));
    return std::shared_ptr<const Tokenizer>(std::move(tokenizer));
  }
  if (fs::exists(folder / "tokenizer.bin")) {
    REFTUNE_ASSIGN_OR_RETURN(auto tokenizer,
                             LoadLlama2cTokenizer((folder / "tokenizer.bin").string()));
    return std::shared_ptr<const Tokenizer>(std::move(tokenizer));
  }
  if (fs::exists(folder / "tokenizer.json")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Hugging Face folder ", folder.string(),
        " has only tokenizer.json: byte-level BPE tokenizer.json is not supported; provide "
        "tokenizer.model (the sentencepiece model of the base model)"));
  }
  return absl::NotFoundError(absl::StrCat("Hugging Face folder ", folder.string(),
                                          " has no tokenizer.model; add the sentencepiece model "
                                          "of the base model"));
}

// Lists the weight files: the shards named by model.safetensors.index.json, else every
// *.safetensors file of the folder.
absl::StatusOr<std::vector<fs::path>> ListWeightFiles(const fs::path& folder) {
  std::vector<fs::path> files;
  const fs::path index_path = folder / kShardIndexFile;
  if (fs::exists(index_path)) {
    REFTUNE_ASSIGN_OR_RETURN(const std::string text,
                             ReadFileBytes(index_path.string(), "safetensors index"));
    const nlohmann::json index = nlohmann::json::parse(text, nullptr, false);
    if (index.is_discarded() || !index.contains("weight_map") ||
        !index["weight_map"].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors index ", index_path.string(), " needs a weight_map object"));
    }
    std::set<std::string> names;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      if (!file.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "safetensors index ", index_path.string(), " maps tensor ", tensor,
            " to ", file.dump(), "; expected a file name"));
      }
      names.insert(file.get<std::string>());
    }
    for (const std::string& name : names) files.push_back(folder / name);
    return files;
  }

  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".safetensors") {
      files.push_back(entry.path());
    }
  }
  if (error) {
    return absl::NotFoundError(absl::StrCat("Hugging Face folder ", folder.string(),
                                            " cannot be listed: ", error.message()));
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "Hugging Face folder ", folder.string(),
        " has no *.safetensors weights; convert pytorch_model.bin to safetensors first"));
  }
  return files;
}

// Reads every tensor of `files` as float32, rejecting names that repeat across files and names
// that are no Llama weight of `config`.
absl::StatusOr<std::map<std::string, torch::Tensor>> ReadWeights(
    const std::vector<fs::path>& files, const ModelConfig& config) {
  const std::map<std::string, std::vector<int64_t>> expected = HuggingFaceWeightShapes(config);
  std::map<std::string, torch::Tensor> weights;
  std::map<std::string, std::string> source_of;
  for (const fs::path& path : files) {
    REFTUNE_ASSIGN_OR_RETURN(const SafetensorsFile file, SafetensorsFile::Read(path.string()));
    for (const SafetensorsTensorInfo& tensor : file.tensors()) {
      // Older exports store the rotary frequencies, which reftune computes itself; tied models
      // may still carry a copy of the embedding as lm_head.
      if (absl::EndsWith(tensor.name, ".rotary_emb.inv_freq")) continue;
      if (tensor.name == "lm_head.weight" && config.tied_embeddings) continue;

      const auto shape = expected.find(tensor.name);
      if (shape == expected.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "safetensors file ", path.string(), " has tensor ", tensor.name,
            ", which is no weight of a Llama model with this config.json"));
      }
      if (tensor.shape != shape->second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "safetensors file ", path.string(), ": tensor ", tensor.name, " has shape ",
            ShapeString(tensor.shape), " but config.json implies ", ShapeString(shape->second)));
      }
      if (!source_of.emplace(tensor.name, path.string()).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor ", tensor.name, " appears in both ", source_of[tensor.name], " and ",
            path.string()));
      }
      weights[tensor.name] = SafetensorToTorch(file, tensor);
    }
  }

  for (const auto& [name, shape] : expected) {
    if (weights.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", name, " with shape ", ShapeString(shape), " is missing from ",
          absl::StrJoin(files, ", ", [](std::string* out, const fs::path& path) {
            out->append(path.string());
          })));
    }
  }
  return weights;
}

// Reorders the rows of each head of a q or k projection from the interleaved rotary layout
// (pairs 2i, 2i + 1) to the half layout (pairs i, i + head_dim / 2). Each head becomes its rows
// [0, 2, 4, ...] followed by its rows [1, 3, 5, ...].
torch::Tensor InterleavedToHalfRows(const torch::Tensor& weight, int64_t heads, int64_t head_dim) {
  const int64_t in_features = weight.size(1);
  return weight.reshape({heads, head_dim / 2, 2, in_features})
      .transpose(1, 2)
      .reshape({heads * head_dim, in_features})
      .contiguous();
}

// Returns an error when `folder` contains anything, so that stale weights or tokenizers of an
// earlier model are never mixed into the new one.
absl::Status PrepareEmptyFolder(const fs::path& folder) {
  std::error_code error;
  if (fs::exists(folder, error) && !fs::is_empty(folder, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "output folder ", folder.string(), " is not empty; choose a new folder or empty it"));
  }
  fs::create_directories(folder, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create output folder ", folder.string(), ": ",
                                            error.message()));
  }
  return absl::OkStatus();
}

absl::Status SaveFolderTokenizer(const Tokenizer* tokenizer, const fs::path& folder) {
  if (const auto* llama2c = dynamic_cast<const Llama2cTokenizer*>(tokenizer)) {
    return llama2c->Save((folder / "tokenizer.bin").string());
  }
  if (const auto* sentencepiece = dynamic_cast<const SentencePieceTokenizer*>(tokenizer)) {
    return sentencepiece->Save((folder / "tokenizer.model").string());
  }
  return absl::InvalidArgumentError(
      "checkpoint has no llama2.c or sentencepiece tokenizer to write to the Hugging Face folder");
}

}  // namespace

absl::StatusOr<Checkpoint> LoadHuggingFaceCheckpoint(const std::string& folder) {
  const fs::path root(folder);
  if (!fs::is_directory(root)) {
    return absl::NotFoundError(absl::StrCat("Hugging Face folder ", folder, " does not exist"));
  }

  Checkpoint checkpoint;
  const std::string config_path = (root / "config.json").string();
  REFTUNE_ASSIGN_OR_RETURN(const std::string config_text,
                           ReadFileBytes(config_path, "config.json"));
  REFTUNE_ASSIGN_OR_RETURN(checkpoint.config, ParseHuggingFaceConfig(config_text, config_path));

  REFTUNE_ASSIGN_OR_RETURN(checkpoint.tokenizer, LoadFolderTokenizer(root));
  if (checkpoint.tokenizer->vocab_size() > checkpoint.config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tokenizer of ", folder, " has ", checkpoint.tokenizer->vocab_size(),
        " tokens but config.json vocab_size is ", checkpoint.config.vocab_size));
  }

  REFTUNE_ASSIGN_OR_RETURN(const std::vector<fs::path> files, ListWeightFiles(root));
  REFTUNE_ASSIGN_OR_RETURN(checkpoint.weights, ReadWeights(files, checkpoint.config));
  return checkpoint;
}

absl::Status SaveHuggingFaceCheckpoint(const Checkpoint& checkpoint, const std::string& folder) {
  const ModelConfig& config = checkpoint.config;
  if (checkpoint.tokenizer == nullptr) {
    return absl::InvalidArgumentError(
        "checkpoint has no tokenizer, but a Hugging Face folder needs one");
  }

  // Every weight, in the half rotary layout.
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, shape] : HuggingFaceWeightShapes(config)) {
    const auto found = checkpoint.weights.find(name);
    if (found == checkpoint.weights.end() || !found->second.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint has no tensor ", name,
                                                      " with shape ", ShapeString(shape)));
    }
    if (found->second.sizes().vec() != shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint tensor ", name, " has shape ", ShapeString(found->second.sizes()),
          "; expected ", ShapeString(shape)));
    }
    torch::Tensor weight = found->second.detach().to(torch::kCPU, torch::kFloat);
    if (config.rope_style == RopeStyle::kInterleaved) {
      if (absl::EndsWith(name, ".self_attn.q_proj.weight")) {
        weight = InterleavedToHalfRows(weight, config.n_heads, config.head_dim());
      } else if (absl::EndsWith(name, ".self_attn.k_proj.weight")) {
        weight = InterleavedToHalfRows(weight, config.n_kv_heads, config.head_dim());
      }
    }
    weights[name] = weight;
  }

  // config.json, model.safetensors and the tokenizer.
  const fs::path root(folder);
  REFTUNE_RETURN_IF_ERROR(PrepareEmptyFolder(root));
  ModelConfig saved_config = config;
  saved_config.rope_style = RopeStyle::kHalf;
  REFTUNE_RETURN_IF_ERROR(WriteFileBytes((root / "config.json").string(),
                                         HuggingFaceConfigJson(saved_config), "config.json"));
  REFTUNE_RETURN_IF_ERROR(WriteTorchSafetensors((root / kSingleWeightsFile).string(), weights,
                                                SafetensorsDtype::kF32, {{"format", "pt"}}));
  return SaveFolderTokenizer(checkpoint.tokenizer.get(), root);
}

}  // namespace reftune::model
