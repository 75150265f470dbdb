// LoadLlama2cCheckpoint: the llama2.c "version 0" binary checkpoint format.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/model/checkpoint.h"
#include "core/model/file_bytes.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::model {
namespace {

constexpr int64_t kHeaderBytes = 7 * sizeof(int32_t);

// Cuts consecutive float32 tensors out of the file bytes, in file order.
class WeightReader {
 public:
  WeightReader(const std::string& path, const std::string& bytes)
      : path_(path), bytes_(bytes), offset_(kHeaderBytes) {}

  // Returns the next tensor of `shape`, or an error naming the file and the offset.
  absl::StatusOr<torch::Tensor> Next(const std::string& name, std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t size : shape) count *= size;
    const int64_t length = count * static_cast<int64_t>(sizeof(float));
    if (offset_ + length > static_cast<int64_t>(bytes_.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "llama2.c checkpoint ", path_, " ends at byte ", bytes_.size(), " inside tensor ",
          name, ", which needs bytes ", offset_, " to ", offset_ + length));
    }
    torch::Tensor tensor = torch::empty(shape, torch::kFloat32);
    std::memcpy(tensor.data_ptr<float>(), bytes_.data() + offset_, length);
    offset_ += length;
    return tensor;
  }

  void Skip(int64_t float_count) { offset_ += float_count * static_cast<int64_t>(sizeof(float)); }

 private:
  const std::string& path_;
  const std::string& bytes_;
  int64_t offset_;
};

// Splits a [n_layers, ...] tensor into model.layers.{i}.<suffix> entries.
void AddPerLayer(const torch::Tensor& stacked, const std::string& suffix,
                 std::map<std::string, torch::Tensor>& weights) {
  for (int64_t layer = 0; layer < stacked.size(0); ++layer) {
    weights[absl::StrCat("model.layers.", layer, ".", suffix)] = stacked[layer].clone();
  }
}

absl::StatusOr<ModelConfig> ParseHeader(const std::string& path, const std::string& bytes) {
  if (static_cast<int64_t>(bytes.size()) < kHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("llama2.c checkpoint ", path, " has ",
                                                   bytes.size(), " bytes, fewer than the ",
                                                   kHeaderBytes, "-byte header"));
  }
  int32_t header[7];
  std::memcpy(header, bytes.data(), sizeof(header));

  ModelConfig config;
  config.dim = header[0];
  config.hidden_dim = header[1];
  config.n_layers = header[2];
  config.n_heads = header[3];
  config.n_kv_heads = header[4];
  // A negative vocab size marks a separate classifier after the other weights.
  config.tied_embeddings = header[5] > 0;
  config.vocab_size = header[5] < 0 ? -static_cast<int64_t>(header[5]) : header[5];
  config.max_seq_len = header[6];
  config.rope_style = RopeStyle::kInterleaved;
  config.norm_eps = 1e-5;
  config.rope_theta = 10000.0;
  config.bos_id = 1;
  config.eos_id = 2;
  // llama2.c's TinyStories models separate stories with BOS and never learned EOS.
  config.end_of_answer_id = config.bos_id;
  return config;
}

}  // namespace

absl::StatusOr<Checkpoint> LoadLlama2cCheckpoint(const std::string& model_path,
                                                 const std::string& tokenizer_path) {
  auto bytes_or = ReadFileBytes(model_path, "llama2.c checkpoint");
  if (!bytes_or.ok()) return bytes_or.status();
  const std::string& bytes = *bytes_or;

  auto config_or = ParseHeader(model_path, bytes);
  if (!config_or.ok()) return config_or.status();
  Checkpoint checkpoint;
  checkpoint.config = *config_or;
  const ModelConfig& config = checkpoint.config;
  if (auto status = ValidateModelConfig(config); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama2.c checkpoint ", model_path, " header: ", status.message()));
  }

  const int64_t dim = config.dim;
  const int64_t hidden = config.hidden_dim;
  const int64_t layers = config.n_layers;
  const int64_t kv_dim = config.n_kv_heads * config.head_dim();
  const int64_t vocab = config.vocab_size;
  const int64_t rope_floats = config.max_seq_len * config.head_dim() / 2;

  // Check the size up front so a truncated or mismatched file names both sizes at once.
  int64_t floats = vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv_dim * dim +
                                           3 * hidden * dim) +
                   dim + 2 * rope_floats + (config.tied_embeddings ? 0 : vocab * dim);
  const int64_t expected_bytes = kHeaderBytes + floats * static_cast<int64_t>(sizeof(float));
  if (static_cast<int64_t>(bytes.size()) != expected_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c checkpoint ", model_path, " has ", bytes.size(), " bytes, but its header (dim ",
        dim, ", hidden_dim ", hidden, ", n_layers ", layers, ", n_heads ", config.n_heads,
        ", n_kv_heads ", config.n_kv_heads, ", vocab_size ", vocab, ", seq_len ",
        config.max_seq_len, ", shared classifier ", config.tied_embeddings,
        ") needs ", expected_bytes));
  }

  WeightReader reader(model_path, bytes);
  auto& weights = checkpoint.weights;
  auto embedding = reader.Next("token_embedding", {vocab, dim});
  if (!embedding.ok()) return embedding.status();
  weights["model.embed_tokens.weight"] = *embedding;

  // File order of llama2.c's export; its w1 is gate_proj, w2 down_proj and w3 up_proj.
  const std::pair<const char*, std::vector<int64_t>> stacked[] = {
      {"input_layernorm.weight", {layers, dim}},
      {"self_attn.q_proj.weight", {layers, dim, dim}},
      {"self_attn.k_proj.weight", {layers, kv_dim, dim}},
      {"self_attn.v_proj.weight", {layers, kv_dim, dim}},
      {"self_attn.o_proj.weight", {layers, dim, dim}},
      {"post_attention_layernorm.weight", {layers, dim}},
      {"mlp.gate_proj.weight", {layers, hidden, dim}},
      {"mlp.down_proj.weight", {layers, dim, hidden}},
      {"mlp.up_proj.weight", {layers, hidden, dim}},
  };
  for (const auto& [suffix, shape] : stacked) {
    auto tensor = reader.Next(suffix, shape);
    if (!tensor.ok()) return tensor.status();
    AddPerLayer(*tensor, suffix, weights);
  }

  auto final_norm = reader.Next("rms_final_weight", {dim});
  if (!final_norm.ok()) return final_norm.status();
  weights["model.norm.weight"] = *final_norm;

  // The stored rotary tables (freq_cis_real, freq_cis_imag) are recomputed by the model.
  reader.Skip(2 * rope_floats);
  if (!config.tied_embeddings) {
    auto classifier = reader.Next("wcls", {vocab, dim});
    if (!classifier.ok()) return classifier.status();
    weights["lm_head.weight"] = *classifier;
  }

  if (!tokenizer_path.empty()) {
    auto tokenizer = LoadLlama2cTokenizer(tokenizer_path);
    if (!tokenizer.ok()) return tokenizer.status();
    if ((*tokenizer)->vocab_size() != vocab) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokenizer ", tokenizer_path, " has ", (*tokenizer)->vocab_size(),
          " tokens, but checkpoint ", model_path, " has vocab_size ", vocab));
    }
    checkpoint.tokenizer = std::move(*tokenizer);
  }
  return checkpoint;
}

}  // namespace reftune::model
