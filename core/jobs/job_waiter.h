// Blocks an idle worker until a job may be waiting: a NOTIFY on the queued-jobs channel wakes it
// at once, and a slow poll covers notifications lost while the connection was down.
#ifndef REFTUNE_CORE_JOBS_JOB_WAITER_H_
#define REFTUNE_CORE_JOBS_JOB_WAITER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/notification_listener.h"

namespace reftune::jobs {

// Not thread-safe: one waiter per idle worker thread.
class JobWaiter {
 public:
  // Opens a dedicated LISTEN connection. UNAVAILABLE when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<JobWaiter>> Create(const std::string& connection_string);

  // Returns true as soon as a job is queued, false after `poll_interval` without one; the caller
  // tries to claim either way. On a lost connection it sleeps for the rest of the interval,
  // returns false and reconnects on the next call.
  bool WaitForQueuedJob(absl::Duration poll_interval);

 private:
  explicit JobWaiter(std::unique_ptr<store::NotificationListener> listener)
      : listener_(std::move(listener)) {}

  std::unique_ptr<store::NotificationListener> listener_;
};

}  // namespace reftune::jobs

#endif  // REFTUNE_CORE_JOBS_JOB_WAITER_H_
