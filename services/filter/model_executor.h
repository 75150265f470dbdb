// A fixed set of threads that run all model work of the filter service, fed by one queue.
// LibTorch gives each thread that runs tensor operations its own intra-op pool, so running model
// work only here keeps the process's thread count fixed however many gRPC calls arrive.
#ifndef REFTUNE_SERVICES_FILTER_MODEL_EXECUTOR_H_
#define REFTUNE_SERVICES_FILTER_MODEL_EXECUTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace reftune::filter {

struct ModelExecutorOptions {
  // Threads that run model work. At least 1; default 1.
  int threads = 1;
  // Tasks waiting to start at most; Submit beyond it fails with UNAVAILABLE. Default 256.
  int max_queued_tasks = 256;
};

// Unit of work in the executor's queue.
class ModelTask {
 public:
  virtual ~ModelTask() = default;
  // Runs the work on an executor thread.
  virtual void Run() = 0;
  // Completes the task with `reason` instead of running it.
  virtual void Drop(const absl::Status& reason) = 0;

  // Marks the task as unwanted: if it has not started, the executor drops it with CANCELLED.
  // A task that is already running finishes.
  void Abandon() { abandoned_.store(true); }
  bool abandoned() const { return abandoned_.load(); }

 private:
  std::atomic<bool> abandoned_{false};
};

// The caller's side of a submitted task: a future of its result.
template <typename T>
class ModelCall : public ModelTask {
 public:
  explicit ModelCall(std::function<absl::StatusOr<T>()> work) : work_(std::move(work)) {}

  void Run() override {
    // Exceptions from LibTorch or the standard library must not end an executor thread.
    try {
      promise_.set_value(work_());
    } catch (const std::exception& e) {
      promise_.set_value(absl::InternalError(absl::StrCat("model work failed: ", e.what())));
    }
  }
  void Drop(const absl::Status& reason) override { promise_.set_value(reason); }

  std::future<absl::StatusOr<T>>& future() { return future_; }

 private:
  std::function<absl::StatusOr<T>()> work_;
  std::promise<absl::StatusOr<T>> promise_;
  std::future<absl::StatusOr<T>> future_ = promise_.get_future();
};

// Thread-safe. The destructor calls Shutdown.
class ModelExecutor {
 public:
  explicit ModelExecutor(const ModelExecutorOptions& options);
  ~ModelExecutor();
  ModelExecutor(const ModelExecutor&) = delete;
  ModelExecutor& operator=(const ModelExecutor&) = delete;

  // Queues `work`. Returns UNAVAILABLE when the queue is full or the executor has shut down.
  template <typename T>
  absl::StatusOr<std::shared_ptr<ModelCall<T>>> Submit(std::function<absl::StatusOr<T>()> work) {
    auto call = std::make_shared<ModelCall<T>>(std::move(work));
    if (absl::Status status = Enqueue(call); !status.ok()) return status;
    return call;
  }

  // Stops accepting tasks, completes the queued ones with UNAVAILABLE and joins the threads after
  // their running tasks finish. Safe to call more than once.
  void Shutdown();

  // Tasks dropped unrun because their caller abandoned them.
  int64_t abandoned_tasks() const { return abandoned_tasks_.load(); }
  // Tasks waiting to start.
  size_t queued_tasks() const;
  int threads() const { return thread_count_; }

 private:
  absl::Status Enqueue(std::shared_ptr<ModelTask> task);
  void RunThread();

  const ModelExecutorOptions options_;
  const int thread_count_;
  // Serialises Shutdown calls.
  std::mutex shutdown_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable task_ready_;
  std::deque<std::shared_ptr<ModelTask>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> abandoned_tasks_{0};
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_MODEL_EXECUTOR_H_
