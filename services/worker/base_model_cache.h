// Base models loaded once per worker process and kept: every job of a base shares its frozen
// weights, and teacher and student adapters are installed on it by name.
#ifndef REFTUNE_SERVICES_WORKER_BASE_MODEL_CACHE_H_
#define REFTUNE_SERVICES_WORKER_BASE_MODEL_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/method/teacher_artifact.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"
#include "core/store/base_model_store.h"

namespace reftune::worker {

struct LoadedBaseModel {
  store::BaseModelRecord record;
  model::Transformer model{nullptr};
  std::shared_ptr<const model::Tokenizer> tokenizer;
  // The registered template of the base model.
  data::PromptTemplate prompt_template = data::PromptTemplate::Alpaca();
};

// Not thread-safe: the worker runs one job at a time on one thread, and adapter changes must not
// overlap forward passes anyway.
class BaseModelCache {
 public:
  explicit BaseModelCache(torch::Device device = torch::kCPU) : device_(device) {}

  // Returns the loaded model, loading it on first use. MISSING_MODEL (FAILED_PRECONDITION) names
  // the base model and the path when its files cannot be loaded.
  absl::StatusOr<std::shared_ptr<LoadedBaseModel>> Get(const store::BaseModelRecord& record);

  // Installs the teacher's adapter as TeacherAdapterName(teacher_id) unless it is there already.
  absl::Status EnsureTeacherAdapter(LoadedBaseModel& base, const std::string& teacher_id,
                                    const method::TeacherArtifact& teacher);

  // Base models loaded from disk since construction.
  int loads() const { return loads_; }

 private:
  torch::Device device_;
  // By base model name and path, so a re-registered path loads afresh.
  std::map<std::string, std::shared_ptr<LoadedBaseModel>> models_;
  int loads_ = 0;
};

// "teacher-<teacher id>".
std::string TeacherAdapterName(const std::string& teacher_id);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_BASE_MODEL_CACHE_H_
