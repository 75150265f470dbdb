// Prometheus metrics of every reftune process, declared in one place so dashboards, alert rules
// and tests agree on the names. Names are in base units; counters end in _total; no label carries a
// job or tenant id.
#ifndef REFTUNE_CORE_METRICS_METRICS_H_
#define REFTUNE_CORE_METRICS_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/metrics/metrics_http_server.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace reftune::metrics {

// The metric families of a process. A process creates one and shares it; every member is
// thread-safe, as prometheus-cpp metrics are.
struct Metrics {
  Metrics();

  std::shared_ptr<prometheus::Registry> registry;

  // gRPC server calls, by full method name and status code name.
  prometheus::Family<prometheus::Counter>& grpc_requests;
  prometheus::Family<prometheus::Histogram>& grpc_request_duration;

  // Jobs per state, sampled from the store.
  prometheus::Family<prometheus::Gauge>& jobs;
  // Jobs waiting in QUEUED, sampled from the store.
  prometheus::Gauge& queue_depth;
  // Time from QUEUED to the claim by a worker.
  prometheus::Histogram& queue_wait;
  // Wall time of finished jobs, by kind and outcome (succeeded, failed, cancelled).
  prometheus::Family<prometheus::Histogram>& job_duration;

  prometheus::Counter& train_tokens;
  prometheus::Histogram& train_step_duration;

  // Prompts scored by the filter, by decision (kept, filtered).
  prometheus::Family<prometheus::Counter>& filter_prompts;
  prometheus::Histogram& filter_cosine_similarity;

  // Uploads rejected, by reason (validation, size_limit, quota, checksum).
  prometheus::Family<prometheus::Counter>& dataset_rejections;

  prometheus::Counter& worker_heartbeats;
  // Unix time of this worker's last successful heartbeat.
  prometheus::Gauge& worker_last_heartbeat;
};

// Returns the names of every metric family that Metrics registers, for checks of dashboards and
// alert rules against the exported names.
std::vector<std::string> MetricFamilyNames();

// Starts an HTTP server for /metrics of `metrics` on `bind_address` ("127.0.0.1:9100").
// Fails with UNAVAILABLE when the port cannot be bound.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartExposer(const std::string& bind_address,
                                                               const Metrics& metrics);

}  // namespace reftune::metrics

#endif  // REFTUNE_CORE_METRICS_METRICS_H_
