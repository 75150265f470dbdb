// Stage 2 end to end for one customer job: set up the teacher as the mode needs (filter weights,
// cached soft labels, merged weights) and train the student adapter.
#ifndef REFTUNE_CORE_METHOD_FINETUNE_PIPELINE_H_
#define REFTUNE_CORE_METHOD_FINETUNE_PIPELINE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/data/record.h"
#include "core/method/finetune_mode.h"
#include "core/method/prompt_filter.h"
#include "core/method/soft_label_cache.h"
#include "core/method/student_trainer.h"
#include "core/method/teacher_artifact.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct FinetuneOptions {
  FinetuneMode mode = FinetuneMode::kRefTeacher;
  StudentTrainingOptions student;
  // Soft-label settings; temperature is taken from student.temperature.
  SoftLabelOptions soft_labels;
  // Folder of the soft-label cache; empty computes the labels without caching them.
  std::string soft_label_cache_dir;
  EncodeOptions encode;
  // Replaces the teacher's threshold when set.
  std::optional<double> threshold;
  int64_t filter_batch_size = 64;
  // Name under which the teacher adapter is installed (reused when already there).
  std::string teacher_adapter = "teacher";
};

struct FinetuneOutcome {
  // One decision per user row when the mode filters; empty otherwise.
  std::vector<FilterDecision> decisions;
  int64_t filtered_rows = 0;
  int64_t kept_rows = 0;
  int64_t steps = 0;
  // Set when the mode distils: whether the soft labels came from the cache.
  std::optional<bool> soft_label_cache_hit;
  // True when the teacher adapter is merged into the base weights (ALIGNED_SFT); the student
  // adapter is only valid on top of the merged weights.
  bool teacher_merged = false;
  double filter_seconds = 0.0;
  double train_seconds = 0.0;
};

// Runs one finetuning job on `model`, which keeps the student adapter options.student.adapter_name
// afterwards. `teacher` may be null only for SFT. The prompt template is the teacher's when there
// is one, else `prompt_template`.
absl::StatusOr<FinetuneOutcome> RunFinetune(model::Transformer model,
                                            std::shared_ptr<const model::Tokenizer> tokenizer,
                                            const TeacherArtifact* teacher,
                                            const data::PromptTemplate& prompt_template,
                                            const std::vector<data::Record>& user,
                                            const std::vector<data::Record>& alignment,
                                            const FinetuneOptions& options,
                                            const ProgressCallback& callback);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_FINETUNE_PIPELINE_H_
