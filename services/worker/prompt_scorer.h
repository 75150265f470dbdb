// Scoring of prompts against a teacher's refusal feature for the SCREENING stage: through the
// filter service, or in this process with PromptFilter when no filter address is configured.
#ifndef REFTUNE_SERVICES_WORKER_PROMPT_SCORER_H_
#define REFTUNE_SERVICES_WORKER_PROMPT_SCORER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/base_model_store.h"
#include "core/store/teacher_store.h"
#include "grpcpp/channel.h"
#include "services/worker/base_model_cache.h"

namespace reftune::worker {

struct PromptScores {
  // One cosine similarity and one decision per prompt, in order.
  std::vector<double> cosine_similarities;
  std::vector<bool> filtered;
  // Threshold and teacher layer the scores used.
  double threshold = 0;
  int layer = 0;
};

class PromptScorer {
 public:
  virtual ~PromptScorer() = default;

  // Scores raw prompts (the teacher's template is applied by the scorer). `threshold` overrides
  // the teacher's when set. DEADLINE_EXCEEDED when `deadline` passes first.
  virtual absl::StatusOr<PromptScores> Score(const store::TeacherRecord& teacher,
                                             const std::vector<std::string>& prompts,
                                             std::optional<double> threshold,
                                             absl::Time deadline) = 0;
};

// Sends the prompts to FilterService.StreamScorePrompts in batches of `batch_size` (at most 1024,
// the service's limit) on one stream, with `deadline` as the call deadline.
std::unique_ptr<PromptScorer> NewFilterServiceScorer(std::shared_ptr<grpc::Channel> channel,
                                                     int batch_size);

// Scores with PromptFilter on the worker's own copy of the base model. `models` and
// `base_models` must outlive the scorer.
std::unique_ptr<PromptScorer> NewLocalPromptScorer(BaseModelCache* models,
                                                   store::BaseModelStore* base_models);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_PROMPT_SCORER_H_
