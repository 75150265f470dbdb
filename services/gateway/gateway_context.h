// Everything the gateway's handlers share: the stores, the artifact root, the event hub, the
// metrics and the options. Built once by GatewayServer.
#ifndef REFTUNE_SERVICES_GATEWAY_GATEWAY_CONTEXT_H_
#define REFTUNE_SERVICES_GATEWAY_GATEWAY_CONTEXT_H_

#include <memory>

#include "core/artifacts/artifact_store.h"
#include "core/metrics/metrics.h"
#include "core/store/base_model_store.h"
#include "core/store/database.h"
#include "core/store/dataset_catalog.h"
#include "core/store/dataset_store.h"
#include "core/store/job_store.h"
#include "core/store/job_summary_store.h"
#include "core/store/operator_store.h"
#include "core/store/screening_store.h"
#include "core/store/teacher_store.h"
#include "core/store/tenant_store.h"
#include "grpcpp/channel.h"
#include "services/gateway/event_hub.h"
#include "services/gateway/gateway_options.h"
#include "services/gateway/tokenizer_cache.h"

namespace reftune::gateway {

// Members are thread-safe; pointers are not owned and outlive the services.
struct GatewayContext {
  GatewayContext(store::Database* database, artifacts::ArtifactStore artifacts, EventHub* events,
                 metrics::Metrics* metrics, GatewayOptions options)
      : database(database),
        tenants(database),
        datasets(database),
        dataset_catalog(database),
        jobs(database),
        job_summaries(database),
        base_models(database),
        teachers(database),
        screening(database),
        operations(database),
        artifacts(std::move(artifacts)),
        events(events),
        metrics(metrics),
        options(std::move(options)) {}

  store::Database* database;
  store::TenantStore tenants;
  store::DatasetStore datasets;
  store::DatasetCatalog dataset_catalog;
  store::JobStore jobs;
  store::JobSummaryStore job_summaries;
  store::BaseModelStore base_models;
  store::TeacherStore teachers;
  store::ScreeningStore screening;
  store::OperatorStore operations;
  artifacts::ArtifactStore artifacts;
  TokenizerCache tokenizers;
  EventHub* events;
  // May be null.
  metrics::Metrics* metrics;
  GatewayOptions options;
  // Channel to the filter service; null when options.filter_address is empty.
  std::shared_ptr<grpc::Channel> filter_channel;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_GATEWAY_CONTEXT_H_
