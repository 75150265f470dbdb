// Fans job-event notifications out to WatchJob calls: one LISTEN connection for the whole gateway,
// however many watchers wait.
#ifndef REFTUNE_SERVICES_GATEWAY_EVENT_HUB_H_
#define REFTUNE_SERVICES_GATEWAY_EVENT_HUB_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/notification_listener.h"

namespace reftune::gateway {

// Thread-safe. A thread waits on the listener and bumps a per-job counter for each NOTIFY on the
// job-events channel; watchers wait on that counter. Only jobs with a watcher are tracked.
class EventHub {
 public:
  // Connects the listener and starts its thread. UNAVAILABLE when PostgreSQL cannot be reached.
  static absl::StatusOr<std::unique_ptr<EventHub>> Start(const std::string& connection_string);

  // Stops the thread and wakes every watcher.
  ~EventHub();

  // Registers interest in a job and returns the job's current notification count. Pair with
  // Unwatch.
  uint64_t Watch(const std::string& job_id);
  void Unwatch(const std::string& job_id);

  // Waits until the job's count passes `seen` or `timeout` passes, and returns the count then.
  uint64_t WaitForChange(const std::string& job_id, uint64_t seen, absl::Duration timeout);

  // True while the listener connection works; watchers then rely on notifications and poll
  // slowly.
  bool connected() const { return connected_.load(); }

 private:
  explicit EventHub(std::unique_ptr<store::NotificationListener> listener);
  void Run();

  struct WatchedJob {
    int watchers = 0;
    uint64_t count = 0;
  };

  std::unique_ptr<store::NotificationListener> listener_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, WatchedJob> jobs_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{true};
  std::thread thread_;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_EVENT_HUB_H_
