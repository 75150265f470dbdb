// PromptScorer that runs PromptFilter on the worker's copy of the base model.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/method/prompt_filter.h"
#include "core/method/teacher_artifact.h"
#include "services/worker/job_failure.h"
#include "services/worker/prompt_scorer.h"

namespace reftune::worker {
namespace {

class LocalPromptScorer : public PromptScorer {
 public:
  LocalPromptScorer(BaseModelCache* models, store::BaseModelStore* base_models)
      : models_(models), base_models_(base_models) {}

  absl::StatusOr<PromptScores> Score(const store::TeacherRecord& teacher,
                                     const std::vector<std::string>& prompts,
                                     std::optional<double> threshold,
                                     absl::Time deadline) override {
    absl::StatusOr<store::BaseModelRecord> record = base_models_->GetByName(teacher.base_model);
    if (!record.ok()) return MissingModelError(record.status().message());
    absl::StatusOr<std::shared_ptr<LoadedBaseModel>> base = models_->Get(*record);
    if (!base.ok()) return base.status();

    absl::StatusOr<method::TeacherArtifact> artifact = method::LoadTeacher(teacher.adapter_path);
    if (!artifact.ok()) {
      return MissingModelError(absl::StrCat("cannot load teacher ", teacher.id, " from ",
                                            teacher.adapter_path, ": ",
                                            artifact.status().message()));
    }
    if (absl::Status installed = models_->EnsureTeacherAdapter(**base, teacher.id, *artifact);
        !installed.ok()) {
      return installed;
    }

    method::PromptFilterOptions options;
    options.adapter = TeacherAdapterName(teacher.id);
    options.threshold = threshold;
    options.encode.end_of_answer_id = artifact->end_of_answer_id;
    method::PromptFilter filter((*base)->model, (*base)->tokenizer, *artifact, options);

    // Batches of 64 prompts let the deadline be checked between forward passes.
    constexpr size_t kChunk = 64;
    PromptScores scores;
    scores.threshold = filter.threshold();
    scores.layer = static_cast<int>(filter.layer());
    for (size_t begin = 0; begin < prompts.size(); begin += kChunk) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat("screening with teacher ", teacher.id,
                                                        " ran past its deadline after ", begin,
                                                        " of ", prompts.size(), " prompts"));
      }
      const size_t end = std::min(prompts.size(), begin + kChunk);
      std::vector<std::string> chunk(prompts.begin() + begin, prompts.begin() + end);
      absl::StatusOr<std::vector<method::FilterDecision>> decisions = filter.Score(chunk);
      if (!decisions.ok()) return decisions.status();
      for (const method::FilterDecision& decision : *decisions) {
        scores.cosine_similarities.push_back(decision.cosine);
        scores.filtered.push_back(decision.filtered);
      }
    }
    return scores;
  }

 private:
  BaseModelCache* models_;
  store::BaseModelStore* base_models_;
};

}  // namespace

std::unique_ptr<PromptScorer> NewLocalPromptScorer(BaseModelCache* models,
                                                   store::BaseModelStore* base_models) {
  return std::make_unique<LocalPromptScorer>(models, base_models);
}

}  // namespace reftune::worker
