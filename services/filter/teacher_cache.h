// Teachers loaded on demand and kept in memory up to a bound, least recently used evicted first.
#ifndef REFTUNE_SERVICES_FILTER_TEACHER_CACHE_H_
#define REFTUNE_SERVICES_FILTER_TEACHER_CACHE_H_

#include <atomic>
#include <cstdint>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/method/prompt_filter.h"
#include "core/method/token_batch.h"
#include "services/filter/base_model_registry.h"
#include "services/filter/model_resolvers.h"

namespace reftune::filter {

// A teacher installed as a named adapter on its shared base model, with the filter that scores
// prompts through it. Destroying it removes the adapter from the base model, so the last holder
// of an evicted teacher frees it. Thread-safe.
class LoadedTeacher {
 public:
  LoadedTeacher(std::string teacher_id, std::shared_ptr<SharedBaseModel> base,
                std::string adapter_name, std::unique_ptr<method::PromptFilter> filter);
  ~LoadedTeacher();
  LoadedTeacher(const LoadedTeacher&) = delete;
  LoadedTeacher& operator=(const LoadedTeacher&) = delete;

  // Scores `prompts` with the teacher's calibrated threshold: one decision per prompt, in order.
  absl::StatusOr<std::vector<method::FilterDecision>> Score(
      const std::vector<std::string>& prompts) const;

  const std::string& teacher_id() const { return teacher_id_; }
  const std::string& adapter_name() const { return adapter_name_; }
  const std::shared_ptr<SharedBaseModel>& base() const { return base_; }
  double threshold() const { return filter_->threshold(); }
  int64_t layer() const { return filter_->layer(); }

 private:
  std::string teacher_id_;
  std::shared_ptr<SharedBaseModel> base_;
  std::string adapter_name_;
  std::unique_ptr<method::PromptFilter> filter_;
};

struct TeacherCacheOptions {
  // Teachers kept loaded at most; loading one more evicts the least recently used. At least 1;
  // default 4.
  int max_teachers = 4;
  // Prompts per forward pass while scoring. Default 64.
  int64_t batch_size = 64;
  // Prompt truncation; prompts longer than encode.max_seq_len tokens lose tokens from their
  // start, as in teacher training.
  method::EncodeOptions encode;
};

// Thread-safe. Get runs model work (loading, installing adapters) on the calling thread, so call
// it from the model executor's threads only.
class TeacherCache {
 public:
  // `resolver` and `bases` are not owned and must outlive the cache.
  TeacherCache(const TeacherResolver* resolver, BaseModelRegistry* bases,
               TeacherCacheOptions options);

  // Returns the teacher, loading it on first use; concurrent calls for one id load it once.
  // Failed loads are not remembered, so a later call tries again.
  absl::StatusOr<std::shared_ptr<const LoadedTeacher>> Get(const std::string& teacher_id);

  // Ids of the loaded teachers, most recently used first.
  std::vector<std::string> LoadedTeacherIds() const;
  // Teachers loaded from disk and evicted since construction.
  int64_t loads() const { return loads_.load(); }
  int64_t evictions() const { return evictions_.load(); }

 private:
  using Result = absl::StatusOr<std::shared_ptr<const LoadedTeacher>>;

  absl::StatusOr<std::shared_ptr<const LoadedTeacher>> Load(const std::string& teacher_id);
  // Adds a freshly loaded teacher at the front and returns the teachers evicted to stay within
  // the bound; the caller destroys them after releasing mutex_.
  std::vector<std::shared_ptr<const LoadedTeacher>> InsertLocked(
      std::shared_ptr<const LoadedTeacher> teacher);

  const TeacherResolver* resolver_;
  BaseModelRegistry* bases_;
  const TeacherCacheOptions options_;

  mutable std::mutex mutex_;
  // Most recently used first.
  std::list<std::shared_ptr<const LoadedTeacher>> lru_;
  std::map<std::string, std::list<std::shared_ptr<const LoadedTeacher>>::iterator> by_id_;
  // Loads in progress; later callers for the same id wait on the first caller's result.
  std::map<std::string, std::shared_future<Result>> loading_;
  std::atomic<int64_t> loads_{0};
  std::atomic<int64_t> evictions_{0};
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_TEACHER_CACHE_H_
