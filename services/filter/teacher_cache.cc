#include "services/filter/teacher_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/method/teacher_artifact.h"
#include "glog/logging.h"

namespace reftune::filter {

LoadedTeacher::LoadedTeacher(std::string teacher_id, std::shared_ptr<SharedBaseModel> base,
                             std::string adapter_name,
                             std::unique_ptr<method::PromptFilter> filter)
    : teacher_id_(std::move(teacher_id)),
      base_(std::move(base)),
      adapter_name_(std::move(adapter_name)),
      filter_(std::move(filter)) {}

LoadedTeacher::~LoadedTeacher() {
  filter_.reset();
  std::unique_lock<std::shared_mutex> lock(base_->adapters_mutex());
  model::Transformer model = base_->model();
  if (absl::Status status = model->RemoveAdapter(adapter_name_); !status.ok()) {
    LOG(ERROR) << "Removing adapter " << adapter_name_ << " of teacher " << teacher_id_
               << " failed: " << status;
    return;
  }
  LOG(INFO) << "Unloaded teacher " << teacher_id_ << " from base model \"" << base_->spec().name
            << "\"";
}

absl::StatusOr<std::vector<method::FilterDecision>> LoadedTeacher::Score(
    const std::vector<std::string>& prompts) const {
  std::shared_lock<std::shared_mutex> lock(base_->adapters_mutex());
  return filter_->Score(prompts);
}

TeacherCache::TeacherCache(const TeacherResolver* resolver, BaseModelRegistry* bases,
                           TeacherCacheOptions options)
    : resolver_(resolver), bases_(bases), options_(std::move(options)) {}

absl::StatusOr<std::shared_ptr<const LoadedTeacher>> TeacherCache::Get(
    const std::string& teacher_id) {
  std::promise<Result> promise;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (auto it = by_id_.find(teacher_id); it != by_id_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return *it->second;
    }
    if (auto it = loading_.find(teacher_id); it != loading_.end()) {
      std::shared_future<Result> pending = it->second;
      lock.unlock();
      return pending.get();
    }
    loading_[teacher_id] = promise.get_future().share();
  }

  // An exception must not leave the promise unset, because other callers wait on it.
  Result result = absl::InternalError("unset");
  try {
    result = Load(teacher_id);
  } catch (const std::exception& e) {
    result = absl::InternalError(
        absl::StrCat("loading teacher ", teacher_id, " failed: ", e.what()));
  }

  std::vector<std::shared_ptr<const LoadedTeacher>> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loading_.erase(teacher_id);
    if (result.ok()) evicted = InsertLocked(*result);
  }
  promise.set_value(result);
  // Destroying an evicted teacher removes its adapter, which waits for its running scores.
  evicted.clear();
  return result;
}

absl::StatusOr<std::shared_ptr<const LoadedTeacher>> TeacherCache::Load(
    const std::string& teacher_id) {
  absl::StatusOr<TeacherLocation> location = resolver_->Resolve(teacher_id);
  if (!location.ok()) return location.status();

  absl::StatusOr<method::TeacherArtifact> artifact = method::LoadTeacher(location->folder);
  if (!artifact.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("loading teacher ", teacher_id, " from ",
                                                      location->folder,
                                                      " failed: ", artifact.status().message()));
  }
  absl::StatusOr<std::shared_ptr<SharedBaseModel>> base = bases_->Acquire(location->base_model);
  if (!base.ok()) return base.status();

  const std::string adapter_name = (*base)->UniqueAdapterName(absl::StrCat("teacher-", teacher_id));
  {
    std::unique_lock<std::shared_mutex> lock((*base)->adapters_mutex());
    model::Transformer model = (*base)->model();
    if (absl::Status status = method::InstallTeacherAdapter(model, *artifact, adapter_name);
        !status.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "installing teacher ", teacher_id, " on base model \"", location->base_model.name,
          "\" failed: ", status.message()));
    }
  }

  method::PromptFilterOptions filter_options;
  filter_options.adapter = adapter_name;
  filter_options.batch_size = options_.batch_size;
  filter_options.encode = options_.encode;
  filter_options.encode.end_of_answer_id = artifact->end_of_answer_id;
  auto filter = std::make_unique<method::PromptFilter>((*base)->model(), (*base)->tokenizer(),
                                                       *artifact, filter_options);
  loads_.fetch_add(1);
  LOG(INFO) << "Loaded teacher " << teacher_id << " from " << location->folder << " on base model \""
            << location->base_model.name << "\" (layer " << artifact->layer << ", threshold "
            << artifact->threshold << ")";
  return std::make_shared<const LoadedTeacher>(teacher_id, *base, adapter_name, std::move(filter));
}

std::vector<std::shared_ptr<const LoadedTeacher>> TeacherCache::InsertLocked(
    std::shared_ptr<const LoadedTeacher> teacher) {
  const std::string teacher_id = teacher->teacher_id();
  lru_.push_front(std::move(teacher));
  by_id_[teacher_id] = lru_.begin();

  std::vector<std::shared_ptr<const LoadedTeacher>> evicted;
  const size_t bound = static_cast<size_t>(std::max(1, options_.max_teachers));
  while (lru_.size() > bound) {
    std::shared_ptr<const LoadedTeacher> oldest = lru_.back();
    lru_.pop_back();
    by_id_.erase(oldest->teacher_id());
    evictions_.fetch_add(1);
    LOG(INFO) << "Evicting teacher " << oldest->teacher_id() << " to keep at most " << bound
              << " teachers loaded";
    evicted.push_back(std::move(oldest));
  }
  return evicted;
}

std::vector<std::string> TeacherCache::LoadedTeacherIds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(lru_.size());
  for (const auto& teacher : lru_) ids.push_back(teacher->teacher_id());
  return ids;
}

}  // namespace reftune::filter
