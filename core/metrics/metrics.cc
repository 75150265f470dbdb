#include "core/metrics/metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reftune::metrics {
namespace {

// Seconds, from a millisecond RPC to a multi-hour job.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

prometheus::Histogram::BucketBoundaries LongDurationBuckets() {
  return {1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400};
}

prometheus::Histogram::BucketBoundaries CosineBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (int i = -9; i <= 10; ++i) buckets.push_back(i / 10.0);
  return buckets;
}

std::shared_ptr<prometheus::Registry> NewRegistry() {
  return std::make_shared<prometheus::Registry>();
}

}  // namespace

Metrics::Metrics()
    : registry(NewRegistry()),
      grpc_requests(prometheus::BuildCounter()
                        .Name("reftune_grpc_server_requests_total")
                        .Help("gRPC calls handled, by method and status code.")
                        .Register(*registry)),
      grpc_request_duration(prometheus::BuildHistogram()
                                .Name("reftune_grpc_server_request_duration_seconds")
                                .Help("gRPC call latency, by method.")
                                .Register(*registry)),
      jobs(prometheus::BuildGauge()
               .Name("reftune_jobs")
               .Help("Jobs per state, sampled from the store.")
               .Register(*registry)),
      queue_depth(prometheus::BuildGauge()
                      .Name("reftune_queue_depth")
                      .Help("Jobs waiting in QUEUED.")
                      .Register(*registry)
                      .Add({})),
      queue_wait(prometheus::BuildHistogram()
                     .Name("reftune_queue_wait_seconds")
                     .Help("Time from QUEUED to the claim by a worker.")
                     .Register(*registry)
                     .Add({}, LongDurationBuckets())),
      job_duration(prometheus::BuildHistogram()
                       .Name("reftune_job_duration_seconds")
                       .Help("Wall time of finished jobs, by kind and outcome.")
                       .Register(*registry)),
      train_tokens(prometheus::BuildCounter()
                       .Name("reftune_train_tokens_total")
                       .Help("Tokens processed by training steps.")
                       .Register(*registry)
                       .Add({})),
      train_step_duration(prometheus::BuildHistogram()
                              .Name("reftune_train_step_seconds")
                              .Help("Wall time of one training step.")
                              .Register(*registry)
                              .Add({}, LatencyBuckets())),
      filter_prompts(prometheus::BuildCounter()
                         .Name("reftune_filter_prompts_total")
                         .Help("Prompts scored by the filter, by decision.")
                         .Register(*registry)),
      filter_cosine_similarity(prometheus::BuildHistogram()
                                   .Name("reftune_filter_cosine_similarity")
                                   .Help("Cosine similarity of scored prompts to the refusal feature.")
                                   .Register(*registry)
                                   .Add({}, CosineBuckets())),
      dataset_rejections(prometheus::BuildCounter()
                             .Name("reftune_dataset_rejections_total")
                             .Help("Dataset uploads rejected, by reason.")
                             .Register(*registry)),
      worker_heartbeats(prometheus::BuildCounter()
                            .Name("reftune_worker_heartbeats_total")
                            .Help("Lease heartbeats sent by this worker.")
                            .Register(*registry)
                            .Add({})),
      worker_last_heartbeat(prometheus::BuildGauge()
                                .Name("reftune_worker_last_heartbeat_timestamp_seconds")
                                .Help("Unix time of this worker's last successful heartbeat.")
                                .Register(*registry)
                                .Add({})) {}

std::vector<std::string> MetricFamilyNames() {
  Metrics metrics;
  std::vector<std::string> names;
  for (const auto& family : metrics.registry->Collect()) names.push_back(family.name);
  return names;
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartExposer(const std::string& bind_address,
                                                               const Metrics& metrics) {
  return MetricsHttpServer::Start(bind_address, metrics.registry);
}

}  // namespace reftune::metrics
