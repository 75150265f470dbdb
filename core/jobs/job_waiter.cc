#include "core/jobs/job_waiter.h"

#include <thread>
#include <utility>

#include "core/store/migrations.h"
#include "glog/logging.h"

namespace reftune::jobs {

absl::StatusOr<std::unique_ptr<JobWaiter>> JobWaiter::Create(const std::string& connection_string) {
  absl::StatusOr<std::unique_ptr<store::NotificationListener>> listener =
      store::NotificationListener::Create(connection_string, {store::kJobQueuedChannel});
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<JobWaiter>(new JobWaiter(std::move(*listener)));
}

bool JobWaiter::WaitForQueuedJob(absl::Duration poll_interval) {
  const absl::Time deadline = absl::Now() + poll_interval;
  absl::StatusOr<std::vector<store::Notification>> notifications = listener_->Wait(poll_interval);
  if (notifications.ok()) return !notifications->empty();

  LOG_EVERY_N(WARNING, 10) << "waiting for queued jobs without notifications, polling instead: "
                           << notifications.status();
  const absl::Duration remaining = deadline - absl::Now();
  if (remaining > absl::ZeroDuration()) {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(remaining));
  }
  return false;
}

}  // namespace reftune::jobs
