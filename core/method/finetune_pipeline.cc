#include "core/method/finetune_pipeline.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"

namespace reftune::method {
namespace {

double SecondsSince(const std::chrono::steady_clock::time_point& start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<FinetuneOutcome> RunFinetune(model::Transformer model,
                                            std::shared_ptr<const model::Tokenizer> tokenizer,
                                            const TeacherArtifact* teacher,
                                            const data::PromptTemplate& prompt_template,
                                            const std::vector<data::Record>& user,
                                            const std::vector<data::Record>& alignment,
                                            const FinetuneOptions& options,
                                            const ProgressCallback& callback) {
  const ModePlan plan = PlanForMode(options.mode);
  if (plan.needs_teacher() && teacher == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("finetune mode ",
                                                   std::string(FinetuneModeName(options.mode)),
                                                   " needs a teacher; pass one or use SFT"));
  }
  if (plan.needs_alignment_data() && alignment.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "finetune mode ", std::string(FinetuneModeName(options.mode)),
        " distils on alignment data, but the alignment set is empty"));
  }
  const data::PromptTemplate& used_template =
      teacher != nullptr ? teacher->prompt_template : prompt_template;
  if (plan.needs_teacher() && !model->HasAdapter(options.teacher_adapter)) {
    REFTUNE_RETURN_IF_ERROR(InstallTeacherAdapter(model, *teacher, options.teacher_adapter));
  }

  FinetuneOutcome outcome;
  REFTUNE_ASSIGN_OR_RETURN(std::vector<EncodedExample> user_examples,
                           EncodeExamples(*tokenizer, used_template, user, true, options.encode));
  std::vector<double> weights(user.size(), 1.0);

  // Filter: w_i = 0 for prompts above the threshold.
  if (plan.filter_user_rows) {
    const auto start = std::chrono::steady_clock::now();
    PromptFilterOptions filter_options;
    filter_options.adapter = options.teacher_adapter;
    filter_options.threshold = options.threshold;
    filter_options.batch_size = options.filter_batch_size;
    filter_options.encode = options.encode;
    const PromptFilter filter(model, tokenizer, *teacher, filter_options);
    std::vector<std::string> prompts;
    for (const data::Record& record : user) prompts.push_back(record.prompt);
    REFTUNE_ASSIGN_OR_RETURN(outcome.decisions, filter.Score(prompts));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (outcome.decisions[i].filtered) {
        weights[i] = 0.0;
        ++outcome.filtered_rows;
      }
    }
    outcome.filter_seconds = SecondsSince(start);
    LOG(INFO) << "filter: " << outcome.filtered_rows << " of " << user.size()
              << " user rows filtered at threshold " << filter.threshold() << ", layer "
              << filter.layer();
  }
  outcome.kept_rows = static_cast<int64_t>(user.size()) - outcome.filtered_rows;

  // Distillation: the teacher's soft labels on the alignment answers, cached.
  std::vector<EncodedExample> alignment_examples;
  std::shared_ptr<const SoftLabelSet> soft_labels;
  if (plan.distill) {
    REFTUNE_ASSIGN_OR_RETURN(alignment_examples, EncodeExamples(*tokenizer, used_template,
                                                                alignment, true, options.encode));
    SoftLabelOptions label_options = options.soft_labels;
    label_options.adapter = options.teacher_adapter;
    label_options.temperature = options.student.temperature;
    SoftLabelSet labels;
    if (options.soft_label_cache_dir.empty()) {
      REFTUNE_ASSIGN_OR_RETURN(labels, ComputeSoftLabels(model, alignment_examples, label_options));
    } else {
      const SoftLabelCache cache(options.soft_label_cache_dir);
      bool hit = false;
      REFTUNE_ASSIGN_OR_RETURN(
          labels, cache.GetOrCompute(
                      SoftLabelCacheKey(teacher->fingerprint, alignment_examples, label_options),
                      model, alignment_examples, label_options, &hit));
      outcome.soft_label_cache_hit = hit;
    }
    soft_labels = std::make_shared<const SoftLabelSet>(std::move(labels));
  }

  // Aligned SFT starts from the teacher's weights.
  if (plan.merge_teacher) {
    REFTUNE_RETURN_IF_ERROR(model->MergeAdapter(options.teacher_adapter));
    outcome.teacher_merged = true;
  }

  const auto start = std::chrono::steady_clock::now();
  REFTUNE_ASSIGN_OR_RETURN(
      auto trainer, StudentTrainer::Create(model, std::move(user_examples), std::move(weights),
                                           std::move(alignment_examples), soft_labels,
                                           options.student));
  REFTUNE_RETURN_IF_ERROR(trainer->Run(callback));
  outcome.steps = trainer->finished_steps();
  outcome.train_seconds = SecondsSince(start);
  return outcome;
}

}  // namespace reftune::method
