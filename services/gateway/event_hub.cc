#include "services/gateway/event_hub.h"

#include <utility>
#include <vector>

#include "core/store/migrations.h"
#include "glog/logging.h"

namespace reftune::gateway {
namespace {

// How long one listener wait lasts, which bounds how long the destructor waits for the thread.
constexpr absl::Duration kListenerWait = absl::Milliseconds(200);
// Pause after a lost connection before the next wait reconnects.
constexpr absl::Duration kReconnectPause = absl::Seconds(1);

}  // namespace

absl::StatusOr<std::unique_ptr<EventHub>> EventHub::Start(const std::string& connection_string) {
  absl::StatusOr<std::unique_ptr<store::NotificationListener>> listener =
      store::NotificationListener::Create(connection_string, {store::kJobEventsChannel});
  if (!listener.ok()) return listener.status();
  std::unique_ptr<EventHub> hub(new EventHub(std::move(*listener)));
  hub->thread_ = std::thread([hub = hub.get()] { hub->Run(); });
  return hub;
}

EventHub::EventHub(std::unique_ptr<store::NotificationListener> listener)
    : listener_(std::move(listener)) {}

EventHub::~EventHub() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  changed_.notify_all();
}

uint64_t EventHub::Watch(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WatchedJob& job = jobs_[job_id];
  ++job.watchers;
  return job.count;
}

void EventHub::Unwatch(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  if (--it->second.watchers <= 0) jobs_.erase(it);
}

uint64_t EventHub::WaitForChange(const std::string& job_id, uint64_t seen,
                                 absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto current = [&]() -> uint64_t {
    auto it = jobs_.find(job_id);
    return it == jobs_.end() ? seen : it->second.count;
  };
  changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                    [&] { return stopping_.load() || current() != seen; });
  return current();
}

void EventHub::Run() {
  LOG(INFO) << "Job event listener started on channel " << store::kJobEventsChannel;
  while (!stopping_) {
    absl::StatusOr<std::vector<store::Notification>> received = listener_->Wait(kListenerWait);
    if (!received.ok()) {
      if (connected_.exchange(false)) {
        LOG(WARNING) << "Job event listener lost its connection, watchers fall back to polling: "
                     << received.status();
      }
      absl::SleepFor(kReconnectPause);
      continue;
    }
    if (!connected_.exchange(true)) LOG(INFO) << "Job event listener reconnected";
    if (received->empty()) continue;

    bool any = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const store::Notification& notification : *received) {
        auto it = jobs_.find(notification.payload);
        if (it == jobs_.end()) continue;
        ++it->second.count;
        any = true;
      }
    }
    if (any) changed_.notify_all();
  }
  LOG(INFO) << "Job event listener stopped";
}

}  // namespace reftune::gateway
