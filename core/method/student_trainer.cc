#include "core/method/student_trainer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/losses.h"
#include "core/model/token_loss.h"
#include "glog/logging.h"

namespace reftune::method {
namespace {

constexpr uint64_t kUserStream = 3;
constexpr uint64_t kAlignmentStream = 4;

}  // namespace

absl::StatusOr<std::unique_ptr<StudentTrainer>> StudentTrainer::Create(
    model::Transformer model, std::vector<EncodedExample> user, std::vector<double> weights,
    std::vector<EncodedExample> alignment, std::shared_ptr<const SoftLabelSet> soft_labels,
    StudentTrainingOptions options) {
  if (options.batch_size < 1 || options.epochs < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "student batch_size and epochs must be >= 1, got ", options.batch_size, " and ",
        options.epochs));
  }
  if (weights.empty()) weights.assign(user.size(), 1.0);
  if (weights.size() != user.size()) {
    return absl::InvalidArgumentError(absl::StrCat("got ", weights.size(), " row weights for ",
                                                   user.size(), " user rows"));
  }
  if (soft_labels != nullptr &&
      soft_labels->offsets.size() != alignment.size() + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "soft labels cover ", soft_labels->offsets.size() - 1, " alignment rows but ",
        alignment.size(), " were given; recompute the soft labels for this alignment set"));
  }
  if (soft_labels != nullptr && (alignment.empty() || options.alignment_batch_size < 1)) {
    return absl::InvalidArgumentError(
        "distillation needs alignment rows and alignment_batch_size >= 1");
  }

  std::unique_ptr<StudentTrainer> trainer(new StudentTrainer(model, options));
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] > 0.0) trainer->kept_.push_back(static_cast<int64_t>(i));
  }
  if (trainer->kept_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "all ", user.size(), " user rows have weight 0 (filtered); nothing is left to train on"));
  }
  trainer->user_ = std::move(user);
  trainer->weights_ = std::move(weights);
  trainer->alignment_ = std::move(alignment);
  trainer->soft_labels_ = std::move(soft_labels);
  const int64_t kept = static_cast<int64_t>(trainer->kept_.size());
  trainer->steps_per_epoch_ = (kept + options.batch_size - 1) / options.batch_size;
  trainer->total_steps_ = trainer->steps_per_epoch_ * options.epochs;
  trainer->options_.optimizer.total_steps = trainer->total_steps_;

  REFTUNE_RETURN_IF_ERROR(model->AddAdapter(options.adapter_name, options.lora, options.seed));
  REFTUNE_ASSIGN_OR_RETURN(trainer->optimizer_,
                           AdapterOptimizer::Create(model, options.adapter_name,
                                                    trainer->options_.optimizer));
  return trainer;
}

StudentTrainer::StudentTrainer(model::Transformer model, StudentTrainingOptions options)
    : model_(std::move(model)),
      options_(std::move(options)),
      monitor_(options_.divergence_ratio, options_.optimizer.warmup_steps) {}

std::vector<int64_t> StudentTrainer::AlignmentIndices(int64_t step) const {
  // The alignment set cycles on its own, epoch after epoch, independent of the user data.
  const int64_t n = static_cast<int64_t>(alignment_.size());
  std::vector<int64_t> indices;
  int64_t cached_epoch = -1;
  std::vector<int64_t> order;
  for (int64_t j = 0; j < options_.alignment_batch_size; ++j) {
    const int64_t global = step * options_.alignment_batch_size + j;
    const int64_t epoch = global / n;
    if (epoch != cached_epoch) {
      order = EpochOrder(n, options_.seed, epoch, kAlignmentStream);
      cached_epoch = epoch;
    }
    indices.push_back(order[global % n]);
  }
  return indices;
}

absl::Status StudentTrainer::Run(const ProgressCallback& callback) {
  const auto start = std::chrono::steady_clock::now();
  LOG(INFO) << "student training: adapter " << options_.adapter_name << ", steps "
            << finished_steps_ << " -> " << total_steps_ << ", " << kept_.size() << " of "
            << user_.size() << " user rows kept, distillation "
            << (distills() ? "on" : "off");
  while (finished_steps_ < total_steps_) {
    REFTUNE_RETURN_IF_ERROR(RunStep(finished_steps_, callback, start));
  }
  return absl::OkStatus();
}

absl::Status StudentTrainer::RunStep(int64_t step, const ProgressCallback& callback,
                                     const std::chrono::steady_clock::time_point& start) {
  const auto step_start = std::chrono::steady_clock::now();
  const int64_t epoch = step / steps_per_epoch_;
  const std::vector<int64_t> order =
      EpochOrder(static_cast<int64_t>(kept_.size()), options_.seed, epoch, kUserStream);
  const int64_t begin = (step % steps_per_epoch_) * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, order.size());
  std::vector<int64_t> indices;
  std::vector<float> batch_weights;
  for (int64_t i = begin; i < end; ++i) {
    indices.push_back(kept_[order[i]]);
    batch_weights.push_back(static_cast<float>(weights_[kept_[order[i]]]));
  }

  optimizer_->ZeroGrad();
  model::ForwardOptions forward;
  forward.adapter = options_.adapter_name;
  forward.apply_dropout = true;
  forward.dropout_generator =
      at::make_generator<at::CPUGeneratorImpl>(options_.seed * 1000003 + step);

  // Weighted cross-entropy on the user rows.
  const TokenBatch batch = MakeTokenBatch(user_, indices, model_->device());
  REFTUNE_ASSIGN_OR_RETURN(model::ForwardOutput output,
                           model_->Forward(batch.input_ids, batch.attention_mask, forward));
  REFTUNE_ASSIGN_OR_RETURN(
      model::TokenLoss token_loss,
      model::MaskedTokenCrossEntropy(output.logits, batch.input_ids, batch.loss_mask));
  const torch::Tensor weights = torch::tensor(batch_weights).to(model_->device());
  const torch::Tensor ce = (token_loss.per_sequence * weights).sum() / weights.size(0);
  torch::Tensor total = ce;
  int64_t tokens = batch.token_count;

  // Distillation on alignment answers against the cached teacher soft labels.
  double kl_value = 0.0;
  if (distills()) {
    const std::vector<int64_t> alignment_indices = AlignmentIndices(step);
    const TokenBatch alignment_batch =
        MakeTokenBatch(alignment_, alignment_indices, model_->device());
    REFTUNE_ASSIGN_OR_RETURN(
        model::ForwardOutput alignment_output,
        model_->Forward(alignment_batch.input_ids, alignment_batch.attention_mask, forward));
    const torch::Tensor kl = DistillationKl(
        AnswerTokenLogits(alignment_output.logits, alignment_batch.targets),
        soft_labels_->ForExamples(alignment_indices), options_.temperature);
    total = total + options_.distill_weight * options_.temperature * options_.temperature * kl;
    kl_value = kl.item<double>();
    tokens += alignment_batch.token_count;
  }

  total.backward();
  const double grad_norm = optimizer_->Step(step);
  const double total_value = total.item<double>();
  REFTUNE_RETURN_IF_ERROR(monitor_.Check(step + 1, total_value, grad_norm));
  finished_steps_ = step + 1;

  const auto now = std::chrono::steady_clock::now();
  TrainingProgress progress;
  progress.step = finished_steps_;
  progress.total_steps = total_steps_;
  progress.epoch = epoch;
  progress.losses = {{"ce_user", ce.item<double>()}, {"total", total_value}};
  if (distills()) progress.losses["kl"] = kl_value;
  progress.learning_rate = optimizer_->LearningRateAt(step);
  progress.grad_norm = grad_norm;
  progress.tokens_per_second =
      tokens / std::max(1e-9, std::chrono::duration<double>(now - step_start).count());
  progress.elapsed_seconds = std::chrono::duration<double>(now - start).count();
  if (options_.log_every_steps > 0 &&
      (finished_steps_ % options_.log_every_steps == 0 || finished_steps_ == total_steps_)) {
    LOG(INFO) << "student step " << finished_steps_ << "/" << total_steps_ << " epoch " << epoch
              << " total " << total_value << " ce_user " << progress.losses["ce_user"] << " kl "
              << kl_value << " lr " << progress.learning_rate << " grad_norm " << grad_norm
              << " tokens/s " << static_cast<int64_t>(progress.tokens_per_second) << " elapsed "
              << progress.elapsed_seconds << "s";
  }
  if (callback && callback(progress) == TrainingControl::kStop) {
    return absl::CancelledError(
        absl::StrCat("student training stopped by its caller after step ", finished_steps_));
  }
  return absl::OkStatus();
}

absl::Status StudentTrainer::SaveState(const std::string& path) const {
  return optimizer_->SaveState(path, finished_steps_, {});
}

absl::Status StudentTrainer::RestoreState(const std::string& path) {
  REFTUNE_ASSIGN_OR_RETURN(const int64_t steps, optimizer_->RestoreState(path, nullptr));
  if (steps < 0 || steps > total_steps_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training state ", path, " is at step ", steps, " but this run has ", total_steps_,
        " steps; resume with the configuration the run started with"));
  }
  finished_steps_ = steps;
  return absl::OkStatus();
}

}  // namespace reftune::method
