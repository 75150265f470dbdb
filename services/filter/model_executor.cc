#include "services/filter/model_executor.h"

#include <algorithm>

#include "glog/logging.h"

namespace reftune::filter {

ModelExecutor::ModelExecutor(const ModelExecutorOptions& options)
    : options_(options), thread_count_(std::max(1, options.threads)) {
  threads_.reserve(thread_count_);
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { RunThread(); });
}

ModelExecutor::~ModelExecutor() { Shutdown(); }

absl::Status ModelExecutor::Enqueue(std::shared_ptr<ModelTask> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::UnavailableError("the filter service is shutting down; retry");
    if (static_cast<int>(queue_.size()) >= options_.max_queued_tasks) {
      return absl::UnavailableError(absl::StrCat("the model queue is full (",
                                                 options_.max_queued_tasks,
                                                 " tasks waiting); retry later"));
    }
    queue_.push_back(std::move(task));
  }
  task_ready_.notify_one();
  return absl::OkStatus();
}

void ModelExecutor::RunThread() {
  while (true) {
    std::shared_ptr<ModelTask> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      task_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    if (task->abandoned()) {
      abandoned_tasks_.fetch_add(1);
      VLOG(1) << "Dropped a model task whose call has ended";
      task->Drop(absl::CancelledError("the call ended before its model work started"));
      continue;
    }
    task->Run();
  }
}

void ModelExecutor::Shutdown() {
  std::lock_guard<std::mutex> shutdown_lock(shutdown_mutex_);
  std::deque<std::shared_ptr<ModelTask>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  task_ready_.notify_all();
  for (auto& task : dropped) {
    task->Drop(absl::UnavailableError("the filter service is shutting down; retry"));
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

size_t ModelExecutor::queued_tasks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

}  // namespace reftune::filter
