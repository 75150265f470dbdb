// The gateway process in one object: database, event hub, customer and operator services, the
// gRPC server, the metrics exposer and the state sampler. Used by the binary and the tests.
#ifndef REFTUNE_SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define REFTUNE_SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/metrics/metrics.h"
#include "core/store/database.h"
#include "core/metrics/metrics_http_server.h"
#include "services/common/grpc_server.h"
#include "services/gateway/customer_service.h"
#include "services/gateway/event_hub.h"
#include "services/gateway/gateway_context.h"
#include "services/gateway/gateway_options.h"
#include "services/gateway/operator_service.h"
#include "services/gateway/state_sampler.h"

namespace reftune::gateway {

struct GatewayServerOptions {
  services::GrpcServerOptions grpc;
  // Migrations are applied at start-up.
  store::DatabaseOptions database;
  GatewayOptions gateway;
  // host:port of the Prometheus /metrics endpoint; empty serves none.
  std::string metrics_listen;
  // How often the jobs-by-state and queue-depth gauges are refreshed. Default 5 s.
  absl::Duration sample_interval = absl::Seconds(5);
};

class GatewayServer {
 public:
  // Opens the database (applying migrations), the artifact root and the event listener, and
  // starts serving. Errors name the part that failed.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(GatewayServerOptions options);

  // Stops accepting calls and waits up to `grace` for running ones, then cancels the rest.
  ~GatewayServer();
  void Shutdown(absl::Duration grace);

  // Blocks until Shutdown.
  void Wait();

  int port() const { return port_; }
  metrics::Metrics& metrics() { return *metrics_; }
  store::Database& database() { return *database_; }
  GatewayContext& context() { return *context_; }

 private:
  GatewayServer() = default;

  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<EventHub> events_;
  std::unique_ptr<GatewayContext> context_;
  std::unique_ptr<CustomerServiceImpl> customer_;
  std::unique_ptr<OperatorServiceImpl> operator_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<reftune::metrics::MetricsHttpServer> exposer_;
  std::unique_ptr<StateSampler> sampler_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_GATEWAY_SERVER_H_
