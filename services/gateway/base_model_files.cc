#include "services/gateway/base_model_files.h"

#include <array>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reftune::gateway {
namespace {

// A llama2.c checkpoint starts with seven int32 values: dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size (negative when the classifier is not shared) and seq_len.
absl::StatusOr<BaseModelFacts> ReadLlama2cFacts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("llama2.c model file ", path, " cannot be read"));
  }
  std::array<int32_t, 7> header{};
  in.read(reinterpret_cast<char*>(header.data()), sizeof(header));
  if (in.gcount() != static_cast<std::streamsize>(sizeof(header))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c model file ", path, " is shorter than its 28-byte header"));
  }
  const int32_t seq_len = header[6];
  if (seq_len <= 0 || header[0] <= 0 || header[2] <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c model file ", path, " has an invalid header (dim ", header[0], ", layers ",
        header[2], ", seq_len ", seq_len, "); is it a llama2.c checkpoint?"));
  }
  BaseModelFacts facts;
  facts.max_seq_len = seq_len;
  // llama2.c models separate their training texts with BOS (id 1) and never learned EOS (id 2),
  // so BOS is the token they can end an answer with.
  facts.end_of_answer_token_id = 1;
  return facts;
}

absl::StatusOr<BaseModelFacts> ReadHuggingFaceFacts(const std::string& folder) {
  const std::filesystem::path config_path = std::filesystem::path(folder) / "config.json";
  std::ifstream in(config_path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("Hugging Face model folder ", folder,
                                            " has no readable config.json"));
  }
  nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.contains("max_position_embeddings") ||
      !config["max_position_embeddings"].is_number_integer()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config_path.string(), " must be a JSON object with an integer max_position_embeddings"));
  }
  BaseModelFacts facts;
  facts.max_seq_len = config["max_position_embeddings"].get<int>();
  if (config.contains("eos_token_id") && config["eos_token_id"].is_number_integer()) {
    facts.end_of_answer_token_id = config["eos_token_id"].get<int64_t>();
  }
  const std::filesystem::path tokenizer = std::filesystem::path(folder) / "tokenizer.model";
  std::error_code error;
  if (std::filesystem::is_regular_file(tokenizer, error)) facts.tokenizer_path = tokenizer.string();
  return facts;
}

}  // namespace

absl::StatusOr<BaseModelFacts> ReadBaseModelFacts(const std::string& format,
                                                  const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("path is empty");
  if (format == "llama2c") return ReadLlama2cFacts(path);
  if (format == "huggingface") return ReadHuggingFaceFacts(path);
  return absl::InvalidArgumentError(
      absl::StrCat("format must be \"llama2c\" or \"huggingface\", got \"", format, "\""));
}

}  // namespace reftune::gateway
