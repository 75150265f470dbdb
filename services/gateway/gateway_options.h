// Settings of the gateway's services, shared by the server, its handlers and the binary's flags.
#ifndef REFTUNE_SERVICES_GATEWAY_GATEWAY_OPTIONS_H_
#define REFTUNE_SERVICES_GATEWAY_GATEWAY_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "core/data/streaming_validator.h"
#include "core/store/tenant_store.h"

namespace reftune::gateway {

struct GatewayOptions {
  // Root folder of the artifact store (datasets, job folders). Required.
  std::string artifact_root;

  // host:port of the filter service for ScreenDataset and Generate. Empty: those calls return
  // UNAVAILABLE.
  std::string filter_address;
  // PEM CA certificates that signed the filter service's TLS certificate. Empty: plaintext.
  std::string filter_tls_ca;

  // Limits of uploads and registered datasets (sizes, record counts, field lengths).
  data::ValidationOptions validation;

  // Limits given to tenants created through CreateTenant.
  store::TenantLimits default_tenant_limits;

  // Largest DownloadArtifact chunk, in bytes. Default 256 KiB, well under the message limit.
  int download_chunk_bytes = 256 * 1024;

  // Wall-time limit of jobs that leave wall_time_limit_seconds at 0. Default 24 hours.
  int64_t default_wall_time_limit_seconds = 24 * 3600;

  // Claims a job may use before its lease keeps expiring makes it FAILED. Default 3.
  int max_job_attempts = 3;

  // How often WatchJob re-reads the event log without a notification, covering notifications
  // lost while the listener reconnects. Default 2 s.
  absl::Duration watch_poll_interval = absl::Seconds(2);

  // How often a waiting WatchJob checks for client cancellation and its deadline. Default 100 ms.
  absl::Duration watch_cancel_check_interval = absl::Milliseconds(100);
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_GATEWAY_OPTIONS_H_
