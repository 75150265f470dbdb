#include "services/worker/lease_keeper.h"

#include <chrono>

#include "glog/logging.h"

namespace reftune::worker {

LeaseKeeper::LeaseKeeper(jobs::JobQueue* queue, std::string job_id, std::string worker_id,
                         absl::Duration interval, metrics::Metrics* metrics)
    : queue_(queue),
      job_id_(std::move(job_id)),
      worker_id_(std::move(worker_id)),
      interval_(interval),
      metrics_(metrics) {
  thread_ = std::thread([this] { Loop(); });
}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::HeartbeatNow() {
  std::lock_guard<std::mutex> lock(heartbeat_mutex_);
  if (lease_lost_.load()) return;

  absl::StatusOr<jobs::LeaseStatus> status = queue_->Heartbeat(job_id_, worker_id_);
  if (!status.ok()) {
    if (status.status().code() == absl::StatusCode::kFailedPrecondition) {
      LOG(WARNING) << "worker " << worker_id_ << " lost the lease of job " << job_id_ << ": "
                   << status.status();
      lease_lost_.store(true);
    } else {
      LOG(ERROR) << "heartbeat of job " << job_id_ << " failed, retrying: " << status.status();
    }
    return;
  }

  if (status->cancel_requested && !cancel_requested_.exchange(true)) {
    LOG(INFO) << "job " << job_id_ << " has a cancellation request";
  }
  if (metrics_ != nullptr) {
    metrics_->worker_heartbeats.Increment();
    metrics_->worker_last_heartbeat.Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  }
}

void LeaseKeeper::Loop() {
  const auto wait = std::chrono::microseconds(absl::ToInt64Microseconds(interval_));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) break;
    lock.unlock();
    HeartbeatNow();
    lock.lock();
  }
}

}  // namespace reftune::worker
