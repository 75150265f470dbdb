// Stage 1 end to end: split the alignment set, train the teacher, choose the layer and threshold on
// the held-out split and assemble the TeacherArtifact.
#ifndef REFTUNE_CORE_METHOD_TEACHER_PIPELINE_H_
#define REFTUNE_CORE_METHOD_TEACHER_PIPELINE_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/data/record.h"
#include "core/method/layer_calibration.h"
#include "core/method/teacher_artifact.h"
#include "core/method/teacher_trainer.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct TeacherPipelineOptions {
  TeacherTrainingOptions training;
  // Share of each side (harmful, harmless) held out for calibration, in (0, 1).
  double heldout_fraction = 0.2;
  // Picks the best-F1 layer when true; otherwise the filter uses training.layer.
  bool calibrate_layer = true;
  // Uses this threshold (for example the paper's 0.9) instead of the calibrated one when set.
  std::optional<double> fixed_threshold;
};

struct TeacherPipelineResult {
  TeacherArtifact teacher;
  CalibrationReport report;
  // Loss over the training rows before and after training.
  TeacherLossTerms initial_loss;
  TeacherLossTerms final_loss;
  double train_seconds = 0.0;
};

// Trains the teacher adapter options.training.adapter_name into `model` (it stays installed).
// The held-out split is taken per side after a shuffle seeded by options.training.seed.
absl::StatusOr<TeacherPipelineResult> TrainTeacher(
    model::Transformer model, std::shared_ptr<const model::Tokenizer> tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<data::Record>& alignment,
    const TeacherPipelineOptions& options, const ProgressCallback& callback);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_TEACHER_PIPELINE_H_
