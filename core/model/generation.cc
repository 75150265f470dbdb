#include "core/model/generation.h"

#include <algorithm>

#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/str_cat.h"

namespace reftune::model {
namespace {

absl::Status ValidateGenerationRequest(const Transformer& model,
                                       const std::vector<std::vector<int64_t>>& prompts,
                                       const GenerationOptions& options) {
  if (prompts.empty()) return absl::InvalidArgumentError("generation needs at least one prompt");
  if (options.max_new_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_new_tokens must be at least 1, got ", options.max_new_tokens));
  }
  if (options.temperature < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("temperature must be 0 (greedy) or positive, got ", options.temperature));
  }
  if (!(options.top_p > 0 && options.top_p <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_p must be in (0, 1], got ", options.top_p));
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("prompt ", i, " is empty; start it with BOS"));
    }
    const int64_t total = static_cast<int64_t>(prompts[i].size()) + options.max_new_tokens;
    if (total > model->config().max_seq_len) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt ", i, " has ", prompts[i].size(), " tokens; with max_new_tokens ",
          options.max_new_tokens, " it exceeds max_seq_len ", model->config().max_seq_len));
    }
  }
  return absl::OkStatus();
}

// Picks one token per row of `logits` ([batch, vocab] float32).
torch::Tensor PickTokens(const torch::Tensor& logits, const GenerationOptions& options,
                         at::Generator& generator) {
  if (options.temperature == 0.0) return logits.argmax(-1);

  torch::Tensor probs = torch::softmax(logits.to(torch::kFloat32) / options.temperature, -1);
  if (options.top_p < 1.0) {
    auto [sorted, order] = probs.sort(-1, /*descending=*/true);
    // Keeps a token when the mass before it is below top_p, so the most likely one always stays.
    torch::Tensor mass_before = sorted.cumsum(-1) - sorted;
    sorted.masked_fill_(mass_before >= options.top_p, 0.0);
    probs = torch::zeros_like(probs).scatter_(-1, order, sorted);
  }
  // Sampled on the CPU so that one seed gives the same tokens on every device.
  torch::Tensor cpu_probs = probs.to(torch::kCPU);
  return torch::multinomial(cpu_probs, 1, /*replacement=*/false, generator)
      .squeeze(-1)
      .to(logits.device());
}

}  // namespace

absl::StatusOr<std::vector<GeneratedSequence>> Generate(
    Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
    const GenerationOptions& options) {
  auto status = ValidateGenerationRequest(model, prompts, options);
  if (!status.ok()) return status;

  torch::InferenceMode inference_mode;
  const ModelConfig& config = model->config();
  const int64_t batch = static_cast<int64_t>(prompts.size());
  int64_t longest = 0;
  for (const auto& prompt : prompts) longest = std::max<int64_t>(longest, prompt.size());

  // Left padding keeps every prompt's last token in the final column.
  torch::Tensor ids = torch::zeros({batch, longest}, torch::kInt64);
  torch::Tensor mask = torch::zeros({batch, longest}, torch::kInt64);
  for (int64_t row = 0; row < batch; ++row) {
    const auto& prompt = prompts[row];
    const int64_t pad = longest - static_cast<int64_t>(prompt.size());
    ids[row].narrow(0, pad, prompt.size()).copy_(torch::tensor(prompt, torch::kInt64));
    mask[row].narrow(0, pad, prompt.size()).fill_(1);
  }

  KvCache cache = model->NewKvCache(batch, longest + options.max_new_tokens);
  ForwardOptions forward_options;
  forward_options.adapter = options.adapter;
  forward_options.last_position_logits_only = true;
  at::Generator generator = at::detail::createCPUGenerator(options.seed);

  std::vector<GeneratedSequence> results(batch);
  std::vector<bool> finished(batch, false);
  int64_t unfinished = batch;
  torch::Tensor step_ids = ids;
  torch::Tensor step_mask = mask;
  for (int64_t step = 0; step < options.max_new_tokens && unfinished > 0; ++step) {
    auto output = model->Forward(step_ids, step_mask, forward_options, &cache);
    if (!output.ok()) return output.status();
    torch::Tensor next = PickTokens(output->logits.select(1, 0), options, generator);
    torch::Tensor next_cpu = next.to(torch::kCPU);
    const int64_t* next_data = next_cpu.data_ptr<int64_t>();

    for (int64_t row = 0; row < batch; ++row) {
      if (finished[row]) continue;
      const int64_t token = next_data[row];
      if (token == config.end_of_answer_id || token == config.eos_id) {
        results[row].finish_reason = token == config.end_of_answer_id ? FinishReason::kEndOfAnswer
                                                                      : FinishReason::kEos;
        finished[row] = true;
        --unfinished;
        continue;
      }
      results[row].tokens.push_back(token);
    }
    // Finished rows keep decoding in lockstep; their tokens are ignored.
    step_ids = next.view({batch, 1});
    step_mask = torch::ones({batch, 1}, torch::kInt64);
  }
  return results;
}

}  // namespace reftune::model
