#include "core/method/teacher_trainer.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/losses.h"
#include "core/method/refusal_feature.h"
#include "core/model/token_loss.h"
#include "glog/logging.h"

namespace reftune::method {
namespace {

constexpr uint64_t kHarmfulStream = 1;
constexpr uint64_t kHarmlessStream = 2;
constexpr char kRefusalKey[] = "refusal_feature";

absl::Status ValidateOptions(const TeacherTrainingOptions& options, int64_t n_layers) {
  if (options.batch_size < 2 || options.batch_size % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "teacher batch_size must be even and >= 2 (half harmful, half harmless), got ",
        options.batch_size));
  }
  if (options.layer < 0 || options.layer >= n_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("teacher layer must be in [0, ", n_layers, "), got ", options.layer));
  }
  if (options.epochs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("teacher epochs must be >= 1, got ", options.epochs));
  }
  if (options.refresh_every_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refresh_every_steps must be >= 1, got ", options.refresh_every_steps));
  }
  if (options.regularizer_weight < 0.0) {
    return absl::InvalidArgumentError(absl::StrCat("regularizer_weight must be >= 0, got ",
                                                   options.regularizer_weight));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AlignmentData> SplitAlignmentRecords(const std::vector<data::Record>& records) {
  AlignmentData data;
  for (const data::Record& record : records) {
    if (!record.meta.has_value() || !record.meta->harmful.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "alignment record at line ", record.line,
          " has no meta.harmful mark; alignment sets need {\"meta\": {\"harmful\": true|false}}"));
    }
    (*record.meta->harmful ? data.harmful : data.harmless).push_back(record);
  }
  return data;
}

absl::StatusOr<std::unique_ptr<TeacherTrainer>> TeacherTrainer::Create(
    model::Transformer model, std::shared_ptr<const model::Tokenizer> tokenizer,
    data::PromptTemplate prompt_template, const AlignmentData& data,
    TeacherTrainingOptions options) {
  REFTUNE_RETURN_IF_ERROR(ValidateOptions(options, model->config().n_layers));
  const int64_t half = options.batch_size / 2;
  const int64_t smaller =
      static_cast<int64_t>(std::min(data.harmful.size(), data.harmless.size()));
  if (smaller < half) {
    return absl::InvalidArgumentError(absl::StrCat(
        "teacher training needs at least ", half, " harmful and ", half,
        " harmless alignment rows for batch_size ", options.batch_size, ", got ",
        data.harmful.size(), " and ", data.harmless.size()));
  }

  std::unique_ptr<TeacherTrainer> trainer(new TeacherTrainer(model, options));
  REFTUNE_ASSIGN_OR_RETURN(auto harmful, EncodeExamples(*tokenizer, prompt_template, data.harmful,
                                                        /*with_answer=*/true, options.encode));
  REFTUNE_ASSIGN_OR_RETURN(auto harmless,
                           EncodeExamples(*tokenizer, prompt_template, data.harmless,
                                          /*with_answer=*/true, options.encode));
  trainer->harmful_count_ = static_cast<int64_t>(harmful.size());
  trainer->examples_ = std::move(harmful);
  trainer->examples_.insert(trainer->examples_.end(), harmless.begin(), harmless.end());

  trainer->steps_per_epoch_ = smaller / half;
  trainer->total_steps_ = trainer->steps_per_epoch_ * options.epochs;
  trainer->options_.optimizer.total_steps = trainer->total_steps_;

  REFTUNE_RETURN_IF_ERROR(model->AddAdapter(options.adapter_name, options.lora, options.seed));
  REFTUNE_ASSIGN_OR_RETURN(trainer->optimizer_,
                           AdapterOptimizer::Create(model, options.adapter_name,
                                                    trainer->options_.optimizer));
  return trainer;
}

TeacherTrainer::TeacherTrainer(model::Transformer model, TeacherTrainingOptions options)
    : model_(std::move(model)),
      options_(std::move(options)),
      monitor_(options_.divergence_ratio, options_.optimizer.warmup_steps) {}

absl::Status TeacherTrainer::RefreshRefusalFeature() {
  std::vector<EncodedExample> prompts;
  prompts.reserve(examples_.size());
  for (const EncodedExample& example : examples_) {
    EncodedExample prompt;
    prompt.ids.assign(example.ids.begin(), example.ids.begin() + example.prompt_length);
    prompt.prompt_length = example.prompt_length;
    prompts.push_back(std::move(prompt));
  }
  FeatureOptions feature_options;
  feature_options.adapter = options_.adapter_name;
  feature_options.layers = {options_.layer};
  feature_options.batch_size = options_.feature_batch_size;
  REFTUNE_ASSIGN_OR_RETURN(auto features, ComputePromptFeatures(model_, prompts, feature_options));
  const torch::Tensor& all = features.front();
  REFTUNE_ASSIGN_OR_RETURN(refusal_feature_,
                           RefusalFeatureFromFeatures(all.slice(0, 0, harmful_count_),
                                                      all.slice(0, harmful_count_)));
  return absl::OkStatus();
}

absl::StatusOr<TeacherTrainer::BatchLoss> TeacherTrainer::ComputeBatchLoss(
    const std::vector<int64_t>& indices, bool training, int64_t step) {
  const TokenBatch batch = MakeTokenBatch(examples_, indices, model_->device());
  model::ForwardOptions forward;
  forward.adapter = options_.adapter_name;
  forward.hidden_layers = {options_.layer};
  forward.apply_dropout = training;
  if (training) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed * 1000003 + step);
    forward.dropout_generator = generator;
  }
  REFTUNE_ASSIGN_OR_RETURN(model::ForwardOutput output,
                           model_->Forward(batch.input_ids, batch.attention_mask, forward));

  std::vector<uint8_t> harmful_flags;
  for (int64_t index : indices) harmful_flags.push_back(index < harmful_count_ ? 1 : 0);
  const torch::Tensor harmful_mask =
      torch::tensor(harmful_flags, torch::kBool).to(model_->device());
  const torch::Tensor harmful = harmful_mask.to(torch::kFloat32);

  REFTUNE_ASSIGN_OR_RETURN(
      model::TokenLoss token_loss,
      model::MaskedTokenCrossEntropy(output.logits, batch.input_ids, batch.loss_mask));
  const torch::Tensor& ce = token_loss.per_sequence;
  const torch::Tensor ce_harmful = (ce * harmful).sum() / harmful.sum().clamp_min(1.0);
  const torch::Tensor ce_harmless = (ce * (1.0 - harmful)).sum() / (1.0 - harmful).sum().clamp_min(1.0);
  const torch::Tensor features = GatherLastPromptStates(output.hidden_states.front(), batch);
  const torch::Tensor regularizer = RefusalRegularizer(features, refusal_feature_, harmful_mask);

  BatchLoss loss;
  loss.total = ce_harmless + ce_harmful + options_.regularizer_weight * regularizer;
  loss.terms.ce_harmless = ce_harmless.item<double>();
  loss.terms.ce_harmful = ce_harmful.item<double>();
  loss.terms.regularizer = regularizer.item<double>();
  loss.terms.total = loss.total.item<double>();
  loss.token_count = batch.token_count;
  return loss;
}

absl::Status TeacherTrainer::Run(const ProgressCallback& callback) {
  const auto start = std::chrono::steady_clock::now();
  LOG(INFO) << "teacher training: adapter " << options_.adapter_name << ", layer "
            << options_.layer << ", steps " << finished_steps_ << " -> " << total_steps_ << " ("
            << steps_per_epoch_ << " per epoch), " << harmful_count_ << " harmful + "
            << examples_.size() - harmful_count_ << " harmless rows";
  while (finished_steps_ < total_steps_) {
    absl::Status status = RunStep(finished_steps_, callback, start);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status TeacherTrainer::RunStep(int64_t step, const ProgressCallback& callback,
                                     const std::chrono::steady_clock::time_point& start) {
  const auto step_start = std::chrono::steady_clock::now();
  if (step % options_.refresh_every_steps == 0 || !refusal_feature_.defined()) {
    REFTUNE_RETURN_IF_ERROR(RefreshRefusalFeature());
  }

  // Balanced batch: the next half-batch of each side in this epoch's order.
  const int64_t epoch = step / steps_per_epoch_;
  const int64_t offset = (step % steps_per_epoch_) * (options_.batch_size / 2);
  const std::vector<int64_t> harmful_order =
      EpochOrder(harmful_count_, options_.seed, epoch, kHarmfulStream);
  const std::vector<int64_t> harmless_order = EpochOrder(
      static_cast<int64_t>(examples_.size()) - harmful_count_, options_.seed, epoch,
      kHarmlessStream);
  std::vector<int64_t> indices;
  for (int64_t i = offset; i < offset + options_.batch_size / 2; ++i) {
    indices.push_back(harmful_order[i]);
    indices.push_back(harmful_count_ + harmless_order[i]);
  }

  optimizer_->ZeroGrad();
  REFTUNE_ASSIGN_OR_RETURN(BatchLoss loss, ComputeBatchLoss(indices, /*training=*/true, step));
  loss.total.backward();
  const double grad_norm = optimizer_->Step(step);
  REFTUNE_RETURN_IF_ERROR(monitor_.Check(step + 1, loss.terms.total, grad_norm));
  finished_steps_ = step + 1;

  const auto now = std::chrono::steady_clock::now();
  TrainingProgress progress;
  progress.step = finished_steps_;
  progress.total_steps = total_steps_;
  progress.epoch = epoch;
  progress.losses = {{"ce_harmless", loss.terms.ce_harmless},
                     {"ce_harmful", loss.terms.ce_harmful},
                     {"regularizer", loss.terms.regularizer},
                     {"total", loss.terms.total}};
  progress.learning_rate = optimizer_->LearningRateAt(step);
  progress.grad_norm = grad_norm;
  progress.tokens_per_second =
      loss.token_count / std::max(1e-9, std::chrono::duration<double>(now - step_start).count());
  progress.elapsed_seconds = std::chrono::duration<double>(now - start).count();
  if (options_.log_every_steps > 0 &&
      (finished_steps_ % options_.log_every_steps == 0 || finished_steps_ == total_steps_)) {
    LOG(INFO) << "teacher step " << finished_steps_ << "/" << total_steps_ << " epoch " << epoch
              << " total " << loss.terms.total << " ce_harmless " << loss.terms.ce_harmless
              << " ce_harmful " << loss.terms.ce_harmful << " regularizer "
              << loss.terms.regularizer << " lr " << progress.learning_rate << " grad_norm "
              << grad_norm << " tokens/s " << static_cast<int64_t>(progress.tokens_per_second)
              << " elapsed " << progress.elapsed_seconds << "s";
  }
  if (callback && callback(progress) == TrainingControl::kStop) {
    return absl::CancelledError(
        absl::StrCat("teacher training stopped by its caller after step ", finished_steps_));
  }
  return absl::OkStatus();
}

absl::StatusOr<TeacherLossTerms> TeacherTrainer::EvaluateLoss() {
  if (!refusal_feature_.defined()) REFTUNE_RETURN_IF_ERROR(RefreshRefusalFeature());
  torch::NoGradGuard no_grad;
  const int64_t half = options_.batch_size / 2;
  const int64_t pairs = std::min<int64_t>(harmful_count_,
                                          static_cast<int64_t>(examples_.size()) - harmful_count_);
  TeacherLossTerms sum;
  int64_t batches = 0;
  for (int64_t start = 0; start < pairs; start += half) {
    std::vector<int64_t> indices;
    for (int64_t i = start; i < std::min(pairs, start + half); ++i) {
      indices.push_back(i);
      indices.push_back(harmful_count_ + i);
    }
    REFTUNE_ASSIGN_OR_RETURN(BatchLoss loss, ComputeBatchLoss(indices, /*training=*/false, 0));
    sum.ce_harmless += loss.terms.ce_harmless;
    sum.ce_harmful += loss.terms.ce_harmful;
    sum.regularizer += loss.terms.regularizer;
    sum.total += loss.terms.total;
    ++batches;
  }
  const double scale = 1.0 / std::max<int64_t>(1, batches);
  return TeacherLossTerms{sum.ce_harmless * scale, sum.ce_harmful * scale,
                          sum.regularizer * scale, sum.total * scale};
}

absl::Status TeacherTrainer::SaveState(const std::string& path) const {
  std::map<std::string, torch::Tensor> extra;
  if (refusal_feature_.defined()) extra[kRefusalKey] = refusal_feature_;
  return optimizer_->SaveState(path, finished_steps_, extra);
}

absl::Status TeacherTrainer::RestoreState(const std::string& path) {
  std::map<std::string, torch::Tensor> extra;
  REFTUNE_ASSIGN_OR_RETURN(const int64_t steps, optimizer_->RestoreState(path, &extra));
  if (steps < 0 || steps > total_steps_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training state ", path, " is at step ", steps, " but this run has ", total_steps_,
        " steps; resume with the configuration the run started with"));
  }
  finished_steps_ = steps;
  const auto refusal = extra.find(kRefusalKey);
  refusal_feature_ =
      refusal == extra.end() ? torch::Tensor() : refusal->second.to(model_->device());
  return absl::OkStatus();
}

}  // namespace reftune::method
