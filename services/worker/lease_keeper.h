// Keeps one job's lease alive from a background thread and tells the training loop, through
// atomic flags, when the lease is lost or a cancellation was requested.
#ifndef REFTUNE_SERVICES_WORKER_LEASE_KEEPER_H_
#define REFTUNE_SERVICES_WORKER_LEASE_KEEPER_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "core/jobs/job_queue.h"
#include "core/metrics/metrics.h"

namespace reftune::worker {

// Starts heartbeating in the constructor and stops in Stop() or the destructor. The flags are safe
// to read from any thread.
class LeaseKeeper {
 public:
  // `queue` and `metrics` (may be null) must outlive the keeper. A heartbeat runs every
  // `interval`; a heartbeat that fails with anything but FAILED_PRECONDITION (for example a lost
  // database connection) is logged and retried at the next interval, because the lease stays
  // valid until it expires.
  LeaseKeeper(jobs::JobQueue* queue, std::string job_id, std::string worker_id,
              absl::Duration interval, metrics::Metrics* metrics);
  ~LeaseKeeper();

  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Ends the heartbeat thread; idempotent.
  void Stop();

  // Runs one heartbeat now, e.g. before a long step, and updates the flags.
  void HeartbeatNow();

  // True once a heartbeat found that this worker no longer holds the lease.
  bool lease_lost() const { return lease_lost_.load(); }
  // True once a heartbeat found a cancellation request.
  bool cancel_requested() const { return cancel_requested_.load(); }

 private:
  void Loop();

  jobs::JobQueue* const queue_;
  const std::string job_id_;
  const std::string worker_id_;
  const absl::Duration interval_;
  metrics::Metrics* const metrics_;

  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> cancel_requested_{false};
  // Serialises heartbeats from the thread and HeartbeatNow.
  std::mutex heartbeat_mutex_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_LEASE_KEEPER_H_
