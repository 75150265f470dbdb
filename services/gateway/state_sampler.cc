#include "services/gateway/state_sampler.h"

#include <string>

#include "core/jobs/job_state.h"
#include "glog/logging.h"

namespace reftune::gateway {
namespace {

constexpr jobs::JobState kAllStates[] = {
    jobs::JobState::kQueued,     jobs::JobState::kScreening, jobs::JobState::kTraining,
    jobs::JobState::kEvaluating, jobs::JobState::kExporting, jobs::JobState::kSucceeded,
    jobs::JobState::kFailed,     jobs::JobState::kCancelled, jobs::JobState::kCancelling,
};

}  // namespace

StateSampler::StateSampler(store::JobSummaryStore* summaries, metrics::Metrics* metrics,
                           absl::Duration interval)
    : summaries_(summaries), metrics_(metrics), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

StateSampler::~StateSampler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  thread_.join();
}

bool StateSampler::SampleOnce() {
  absl::StatusOr<std::map<std::string, int64_t>> counts = summaries_->CountJobsByState();
  if (!counts.ok()) {
    LOG_EVERY_N(WARNING, 20) << "Sampling job counts failed; gauges keep their last values: "
                             << counts.status();
    return false;
  }
  // Every state is set, so a state whose jobs all moved on drops to 0.
  for (jobs::JobState state : kAllStates) {
    const std::string name(jobs::JobStateName(state));
    auto it = counts->find(name);
    const double value = it == counts->end() ? 0.0 : static_cast<double>(it->second);
    metrics_->jobs.Add({{"state", name}}).Set(value);
    if (state == jobs::JobState::kQueued) metrics_->queue_depth.Set(value);
  }
  return true;
}

void StateSampler::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    stop_signal_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stopping_; });
  }
}

}  // namespace reftune::gateway
