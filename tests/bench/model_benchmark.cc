// Measures LoRA training and scoring speed of the model core and prints a table.
//
//   model_benchmark [--threads N] [--steps N] [--stories-dir DIR] [--configs LIST]
//
// For each configuration it times one LoRA training step (forward, masked cross-entropy,
// backward, gradient clipping, AdamW) and one forward-only scoring pass, and reports tokens per
// second and model FLOPs utilisation against the float32 matmul rate it measures first.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "CLI/CLI.hpp"
#include "core/model/adamw.h"
#include "core/model/checkpoint.h"
#include "core/model/token_loss.h"
#include "core/model/torch_threads.h"
#include "core/model/transformer.h"

namespace reftune::model {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Best float32 GEMM rate over a few n x n products, in FLOP/s.
double MeasureMatmulPeak(int64_t n) {
  torch::InferenceMode inference_mode;
  torch::Tensor a = torch::randn({n, n});
  torch::Tensor b = torch::randn({n, n});
  torch::Tensor c = torch::mm(a, b);
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    auto start = Clock::now();
    torch::mm_out(c, a, b);
    best = std::max(best, 2.0 * n * n * n / SecondsSince(start));
  }
  return best;
}

struct BenchConfig {
  std::string name;
  ModelConfig model;
  int64_t batch = 0;
  int64_t seq = 0;
};

struct Measurement {
  double train_seconds = 0;
  double score_seconds = 0;
  double train_flops_per_token = 0;
  double score_flops_per_token = 0;
};

int64_t LoraParameterCount(Transformer& model, const std::string& adapter) {
  int64_t count = 0;
  for (const auto& [name, tensor] : *model->AdapterParameters(adapter)) count += tensor.numel();
  return count;
}

Measurement Run(Transformer& model, const BenchConfig& config, int steps) {
  LoraConfig lora;  // r 16, lora_alpha 32, all seven projections.
  lora.lora_dropout = 0.05;
  auto status = model->AddAdapter("bench", lora, 1);
  if (!status.ok()) {
    std::fprintf(stderr, "adding the adapter failed: %s\n", status.ToString().c_str());
    std::exit(1);
  }
  auto parameters = *model->AdapterParameters("bench");
  AdamW optimizer(parameters, AdamWOptions());

  torch::Tensor ids = torch::randint(3, config.model.vocab_size, {config.batch, config.seq});
  torch::Tensor attention_mask = torch::ones({config.batch, config.seq}, torch::kInt64);
  torch::Tensor loss_mask = attention_mask;

  ForwardOptions train_options;
  train_options.adapter = "bench";
  train_options.apply_dropout = true;
  auto train_step = [&] {
    auto output = model->Forward(ids, attention_mask, train_options);
    auto loss = MaskedTokenCrossEntropy(output->logits, ids, loss_mask);
    loss->token_mean.backward();
    ClipGradientNorm(parameters, 1.0);
    optimizer.Step(1e-4);
    optimizer.ZeroGrad();
  };
  ForwardOptions score_options;
  score_options.adapter = "bench";
  auto score_step = [&] {
    torch::InferenceMode inference_mode;
    auto output = model->Forward(ids, attention_mask, score_options);
    auto loss = MaskedTokenCrossEntropy(output->logits, ids, loss_mask);
    (void)loss->per_sequence.sum().item<double>();
  };

  Measurement result;
  train_step();  // Warm-up: allocator and OpenMP pool.
  auto start = Clock::now();
  for (int i = 0; i < steps; ++i) train_step();
  result.train_seconds = SecondsSince(start) / steps;
  score_step();
  start = Clock::now();
  for (int i = 0; i < steps; ++i) score_step();
  result.score_seconds = SecondsSince(start) / steps;

  // Matmul FLOPs: the embedding lookup is free, the (possibly tied) lm_head is a full matmul.
  const ModelConfig& m = config.model;
  const double matmul_params = static_cast<double>(model->BaseParameterCount()) -
                               static_cast<double>(m.vocab_size * m.dim) * (m.tied_embeddings ? 0 : 1) -
                               static_cast<double>(m.dim * (2 * m.n_layers + 1));
  const double lora_params = static_cast<double>(LoraParameterCount(model, "bench"));
  // Scores and probabilities times values cost 4 * seq * dim FLOPs per token and layer forward.
  // The full square is computed, so causality halves nothing. Backward doubles the forward cost.
  const double attention = 4.0 * config.seq * m.dim * m.n_layers;
  result.train_flops_per_token = 4 * matmul_params + 6 * lora_params + 3 * attention;
  result.score_flops_per_token = 2 * matmul_params + 2 * lora_params + attention;
  return result;
}

}  // namespace
}  // namespace reftune::model

int main(int argc, char** argv) {
  using namespace reftune::model;
  CLI::App app("Times LoRA training and scoring of the model core and prints a table.");
  int threads = 0;
  int steps = 5;
  std::string stories_dir = "../shared/data/stories260K";
  app.add_option("--threads", threads, "Intra-op threads; 0 uses every hardware thread");
  app.add_option("--steps", steps, "Timed steps per measurement, after one warm-up step");
  app.add_option("--stories-dir", stories_dir, "Folder with stories260K.bin and tok512.bin");
  std::string configs = "stories260K,dim512-8L-v32000";
  app.add_option("--configs", configs, "Comma-separated configurations to run");
  CLI11_PARSE(app, argc, argv);

  const int used_threads = ConfigureTorchThreads(threads);
  const double peak = MeasureMatmulPeak(2048);
  std::string blas = "unknown";
  const std::string build = torch::show_config();
  if (auto at = build.find("BLAS_INFO="); at != std::string::npos) {
    blas = build.substr(at + 10, build.find_first_of(",\n", at) - at - 10);
  }
  std::printf("threads %d, BLAS %s, float32 matmul peak (2048^3) %.1f GFLOP/s\n\n", used_threads,
              blas.c_str(), peak / 1e9);

  std::vector<std::pair<BenchConfig, Transformer>> runs;
  auto checkpoint = LoadLlama2cCheckpoint(stories_dir + "/stories260K.bin", "");
  if (!checkpoint.ok()) {
    std::fprintf(stderr, "%s\n", checkpoint.status().ToString().c_str());
    return 1;
  }
  runs.emplace_back(BenchConfig{"stories260K", checkpoint->config, 16, 256},
                    *CreateTransformer(*checkpoint, torch::kCPU));

  ModelConfig large;
  large.dim = 512;
  large.hidden_dim = 1376;
  large.n_layers = 8;
  large.n_heads = 8;
  large.n_kv_heads = 8;
  large.vocab_size = 32000;
  large.max_seq_len = 256;
  large.tied_embeddings = false;
  runs.emplace_back(BenchConfig{"dim512-8L-v32000", large, 8, 256},
                    Transformer(TransformerOptions{large, torch::kCPU}));

  std::printf("| config | batch x seq | mode | ms/step | tokens/s | GFLOP/s | MFU |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (auto& [config, model] : runs) {
    if (configs.find(config.name) == std::string::npos) continue;
    Measurement m = Run(model, config, steps);
    const double tokens = static_cast<double>(config.batch * config.seq);
    const std::pair<const char*, std::pair<double, double>> rows[] = {
        {"LoRA train step", {m.train_seconds, m.train_flops_per_token}},
        {"scoring", {m.score_seconds, m.score_flops_per_token}}};
    for (const auto& [mode, timing] : rows) {
      const double rate = tokens * timing.second / timing.first;
      std::printf("| %s | %lld x %lld | %s | %.1f | %.0f | %.1f | %.0f%% |\n", config.name.c_str(),
                  static_cast<long long>(config.batch), static_cast<long long>(config.seq), mode,
                  timing.first * 1e3, tokens / timing.first, rate / 1e9, 100.0 * rate / peak);
    }
  }
  return 0;
}
