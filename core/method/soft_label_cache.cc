#include "core/method/soft_label_cache.h"

#include <filesystem>
#include <unistd.h>

#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"
#include "core/method/sha256_digest.h"

namespace reftune::method {

SoftLabels SoftLabelSet::ForExamples(const std::vector<int64_t>& indices) const {
  std::vector<torch::Tensor> log_probs;
  std::vector<torch::Tensor> token_ids;
  for (int64_t index : indices) {
    log_probs.push_back(labels.log_probs.slice(0, offsets[index], offsets[index + 1]));
    token_ids.push_back(labels.token_ids.slice(0, offsets[index], offsets[index + 1]));
  }
  return SoftLabels{torch::cat(log_probs, 0), torch::cat(token_ids, 0)};
}

absl::StatusOr<SoftLabelSet> ComputeSoftLabels(model::Transformer& model,
                                               const std::vector<EncodedExample>& examples,
                                               const SoftLabelOptions& options) {
  if (!(options.temperature > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("distillation temperature must be > 0, got ", options.temperature));
  }
  torch::NoGradGuard no_grad;
  model::ForwardOptions forward;
  forward.adapter = options.adapter;

  SoftLabelSet set;
  set.offsets.push_back(0);
  std::vector<torch::Tensor> log_probs;
  std::vector<torch::Tensor> token_ids;
  const int64_t total = static_cast<int64_t>(examples.size());
  for (int64_t start = 0; start < total; start += options.batch_size) {
    std::vector<int64_t> indices(std::min(options.batch_size, total - start));
    std::iota(indices.begin(), indices.end(), start);
    const TokenBatch batch = MakeTokenBatch(examples, indices, model->device());
    REFTUNE_ASSIGN_OR_RETURN(model::ForwardOutput output,
                             model->Forward(batch.input_ids, batch.attention_mask, forward));
    const SoftLabels labels = MakeSoftLabels(AnswerTokenLogits(output.logits, batch.targets),
                                             options.temperature, options.top_k);
    log_probs.push_back(labels.log_probs.cpu());
    token_ids.push_back(labels.token_ids.cpu());
    for (int64_t index : indices) {
      const EncodedExample& example = examples[index];
      const int64_t answer_tokens =
          static_cast<int64_t>(example.ids.size()) - example.prompt_length;
      set.offsets.push_back(set.offsets.back() + answer_tokens);
    }
  }
  set.labels.log_probs = log_probs.empty() ? torch::zeros({0, 1}) : torch::cat(log_probs, 0);
  set.labels.token_ids =
      token_ids.empty() ? torch::zeros({0, 1}, torch::kInt64) : torch::cat(token_ids, 0);
  return set;
}

std::string SoftLabelCacheKey(const std::string& teacher_fingerprint,
                              const std::vector<EncodedExample>& examples,
                              const SoftLabelOptions& options) {
  Sha256Digest digest;
  digest.Update(absl::StrCat(teacher_fingerprint, "|T=", options.temperature,
                             "|top_k=", options.top_k, "|n=", examples.size()));
  for (const EncodedExample& example : examples) {
    const int64_t header[2] = {static_cast<int64_t>(example.ids.size()), example.prompt_length};
    digest.Update(header, sizeof(header));
    digest.Update(example.ids.data(), example.ids.size() * sizeof(int64_t));
  }
  return digest.HexDigest();
}

std::string SoftLabelCache::PathFor(const std::string& key) const {
  return absl::StrCat(folder_, "/", key, ".softlabels");
}

absl::StatusOr<std::optional<SoftLabelSet>> SoftLabelCache::Lookup(const std::string& key) const {
  const std::string path = PathFor(key);
  if (!std::filesystem::exists(path)) return std::optional<SoftLabelSet>();
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor offsets;
    SoftLabelSet set;
    archive.read("log_probs", set.labels.log_probs);
    archive.read("token_ids", set.labels.token_ids);
    archive.read("offsets", offsets);
    set.labels.token_ids = set.labels.token_ids.to(torch::kInt64);
    const torch::Tensor contiguous = offsets.contiguous();
    set.offsets.assign(contiguous.data_ptr<int64_t>(),
                       contiguous.data_ptr<int64_t>() + contiguous.numel());
    return std::optional<SoftLabelSet>(std::move(set));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("reading soft labels ", path,
                                                   " failed: ", e.what_without_backtrace(),
                                                   "; delete the file to recompute it"));
  }
}

absl::Status SoftLabelCache::Store(const std::string& key, const SoftLabelSet& labels) const {
  const std::string path = PathFor(key);
  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  try {
    std::filesystem::create_directories(folder_);
    torch::serialize::OutputArchive archive;
    archive.write("log_probs", labels.labels.log_probs.contiguous());
    archive.write("token_ids", labels.labels.token_ids.to(torch::kInt32).contiguous());
    archive.write("offsets", torch::tensor(labels.offsets, torch::kInt64));
    archive.save_to(temporary);
    std::filesystem::rename(temporary, path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("writing soft labels ", path, " failed: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<SoftLabelSet> SoftLabelCache::GetOrCompute(
    const std::string& key, model::Transformer& model, const std::vector<EncodedExample>& examples,
    const SoftLabelOptions& options, bool* hit) const {
  REFTUNE_ASSIGN_OR_RETURN(std::optional<SoftLabelSet> cached, Lookup(key));
  if (hit != nullptr) *hit = cached.has_value();
  if (cached.has_value()) {
    LOG(INFO) << "soft labels: cache hit " << PathFor(key);
    return *std::move(cached);
  }
  REFTUNE_ASSIGN_OR_RETURN(SoftLabelSet computed, ComputeSoftLabels(model, examples, options));
  REFTUNE_RETURN_IF_ERROR(Store(key, computed));
  LOG(INFO) << "soft labels: computed " << computed.labels.log_probs.size(0) << " tokens into "
            << PathFor(key);
  return computed;
}

}  // namespace reftune::method
