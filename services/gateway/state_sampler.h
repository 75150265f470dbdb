// A background thread that copies job counts per state and the queue depth from the store into
// the jobs and queue-depth gauges.
#ifndef REFTUNE_SERVICES_GATEWAY_STATE_SAMPLER_H_
#define REFTUNE_SERVICES_GATEWAY_STATE_SAMPLER_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "core/metrics/metrics.h"
#include "core/store/job_summary_store.h"

namespace reftune::gateway {

// Samples every `interval` until destroyed. Both pointers must outlive the sampler.
class StateSampler {
 public:
  StateSampler(store::JobSummaryStore* summaries, metrics::Metrics* metrics,
               absl::Duration interval);
  ~StateSampler();

  // Takes one sample now; returns false when the store could not be read.
  bool SampleOnce();

 private:
  void Run();

  store::JobSummaryStore* summaries_;
  metrics::Metrics* metrics_;
  const absl::Duration interval_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_STATE_SAMPLER_H_
