#include "core/method/teacher_pipeline.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/adapter_optimizer.h"
#include "glog/logging.h"

namespace reftune::method {
namespace {

constexpr uint64_t kHoldoutStream = 7;

// Moves a seeded share of `records` into `heldout`.
void SplitHeldout(const std::vector<data::Record>& records, double fraction, uint64_t seed,
                  uint64_t side, std::vector<data::Record>* train,
                  std::vector<data::Record>* heldout) {
  const int64_t n = static_cast<int64_t>(records.size());
  const int64_t heldout_count = static_cast<int64_t>(std::llround(fraction * n));
  const std::vector<int64_t> order = EpochOrder(n, seed, /*epoch=*/0, kHoldoutStream + side);
  for (int64_t i = 0; i < n; ++i) {
    (i < heldout_count ? heldout : train)->push_back(records[order[i]]);
  }
}

std::vector<EncodedExample> PromptsOnly(const std::vector<EncodedExample>& examples) {
  std::vector<EncodedExample> prompts;
  for (const EncodedExample& example : examples) {
    prompts.push_back(EncodedExample{
        std::vector<int64_t>(example.ids.begin(), example.ids.begin() + example.prompt_length),
        example.prompt_length});
  }
  return prompts;
}

}  // namespace

absl::StatusOr<TeacherPipelineResult> TrainTeacher(
    model::Transformer model, std::shared_ptr<const model::Tokenizer> tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<data::Record>& alignment,
    const TeacherPipelineOptions& options, const ProgressCallback& callback) {
  if (!(options.heldout_fraction > 0.0 && options.heldout_fraction < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("heldout_fraction must be in (0, 1), got ",
                                                   options.heldout_fraction));
  }
  REFTUNE_ASSIGN_OR_RETURN(AlignmentData all, SplitAlignmentRecords(alignment));
  AlignmentData train;
  AlignmentData heldout;
  SplitHeldout(all.harmful, options.heldout_fraction, options.training.seed, 0, &train.harmful,
               &heldout.harmful);
  SplitHeldout(all.harmless, options.heldout_fraction, options.training.seed, 1, &train.harmless,
               &heldout.harmless);

  // Train.
  TeacherPipelineResult result;
  REFTUNE_ASSIGN_OR_RETURN(auto trainer, TeacherTrainer::Create(model, tokenizer, prompt_template,
                                                                train, options.training));
  REFTUNE_ASSIGN_OR_RETURN(result.initial_loss, trainer->EvaluateLoss());
  const auto start = std::chrono::steady_clock::now();
  REFTUNE_RETURN_IF_ERROR(trainer->Run(callback));
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REFTUNE_RETURN_IF_ERROR(trainer->RefreshRefusalFeature());
  REFTUNE_ASSIGN_OR_RETURN(result.final_loss, trainer->EvaluateLoss());

  // Calibrate on the held-out prompts.
  const EncodeOptions& encode = options.training.encode;
  REFTUNE_ASSIGN_OR_RETURN(auto train_harmful, EncodeExamples(*tokenizer, prompt_template,
                                                              train.harmful, false, encode));
  REFTUNE_ASSIGN_OR_RETURN(auto train_harmless, EncodeExamples(*tokenizer, prompt_template,
                                                               train.harmless, false, encode));
  REFTUNE_ASSIGN_OR_RETURN(auto heldout_harmful, EncodeExamples(*tokenizer, prompt_template,
                                                                heldout.harmful, false, encode));
  REFTUNE_ASSIGN_OR_RETURN(auto heldout_harmless, EncodeExamples(*tokenizer, prompt_template,
                                                                 heldout.harmless, false, encode));
  CalibrationOptions calibration;
  calibration.adapter = options.training.adapter_name;
  calibration.batch_size = options.training.feature_batch_size;
  calibration.fixed_threshold = options.fixed_threshold.value_or(0.9);
  std::vector<torch::Tensor> refusal_features;
  REFTUNE_ASSIGN_OR_RETURN(
      result.report,
      CalibrateLayers(model, PromptsOnly(train_harmful), PromptsOnly(train_harmless),
                      PromptsOnly(heldout_harmful), PromptsOnly(heldout_harmless), calibration,
                      &refusal_features));
  if (!options.calibrate_layer) result.report.chosen = options.training.layer;

  // Assemble the artifact.
  const LayerQuality& chosen = result.report.layers[result.report.chosen];
  TeacherArtifact& teacher = result.teacher;
  teacher.lora = options.training.lora;
  REFTUNE_ASSIGN_OR_RETURN(teacher.adapter_tensors,
                           model->ExportAdapter(options.training.adapter_name));
  teacher.layer = chosen.layer;
  teacher.refusal_feature = refusal_features[result.report.chosen].cpu();
  teacher.threshold = options.fixed_threshold.value_or(chosen.threshold);
  teacher.prompt_template = prompt_template;
  teacher.end_of_answer_id = encode.end_of_answer_id;
  teacher.quality_report = result.report.ToJson();
  teacher.fingerprint = ComputeTeacherFingerprint(teacher);
  LOG(INFO) << "teacher ready: layer " << teacher.layer << ", threshold " << teacher.threshold
            << ", held-out " << chosen.quality.Format();
  return result;
}

}  // namespace reftune::method
