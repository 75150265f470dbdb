#include "services/gateway/gateway_server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "reftune/v1/customer_service.grpc.pb.h"
#include "reftune/v1/operator_service.grpc.pb.h"

namespace reftune::gateway {
namespace {

absl::Status Annotate(const absl::Status& status, absl::string_view part) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(part, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(GatewayServerOptions options) {
  std::unique_ptr<GatewayServer> gateway(new GatewayServer);
  gateway->metrics_ = std::make_unique<metrics::Metrics>();

  absl::StatusOr<std::unique_ptr<store::Database>> database =
      store::Database::Open(options.database);
  if (!database.ok()) return Annotate(database.status(), "opening the database");
  gateway->database_ = std::move(*database);

  absl::StatusOr<artifacts::ArtifactStore> artifacts =
      artifacts::ArtifactStore::Open(options.gateway.artifact_root);
  if (!artifacts.ok()) return Annotate(artifacts.status(), "opening the artifact root");

  absl::StatusOr<std::unique_ptr<EventHub>> events =
      EventHub::Start(options.database.connection_string);
  if (!events.ok()) return Annotate(events.status(), "starting the job event listener");
  gateway->events_ = std::move(*events);

  gateway->context_ = std::make_unique<GatewayContext>(
      gateway->database_.get(), std::move(*artifacts), gateway->events_.get(),
      gateway->metrics_.get(), options.gateway);
  if (!options.gateway.filter_address.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        services::ClientCredentials(options.gateway.filter_tls_ca);
    if (!credentials.ok()) return credentials.status();
    gateway->context_->filter_channel =
        grpc::CreateChannel(options.gateway.filter_address, *credentials);
  }
  gateway->customer_ = std::make_unique<CustomerServiceImpl>(gateway->context_.get());
  gateway->operator_ = std::make_unique<OperatorServiceImpl>(gateway->context_.get());

  absl::StatusOr<services::StartedServer> started = services::StartGrpcServer(
      options.grpc, {gateway->customer_.get(), gateway->operator_.get()}, gateway->metrics_.get());
  if (!started.ok()) return Annotate(started.status(), "starting the gRPC server");
  gateway->server_ = std::move(started->server);
  // A health check that names one of these services reports SERVING, like the whole-server check.
  for (const char* service : {v1::CustomerService::service_full_name(),
                              v1::OperatorService::service_full_name()}) {
    gateway->server_->GetHealthCheckService()->SetServingStatus(service, true);
  }
  gateway->port_ = started->port;

  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<reftune::metrics::MetricsHttpServer>> exposer =
        metrics::StartExposer(options.metrics_listen, *gateway->metrics_);
    if (!exposer.ok()) return Annotate(exposer.status(), "starting the metrics endpoint");
    gateway->exposer_ = std::move(*exposer);
  }
  gateway->sampler_ = std::make_unique<StateSampler>(
      &gateway->context_->job_summaries, gateway->metrics_.get(), options.sample_interval);

  LOG(INFO) << "Gateway serving on port " << gateway->port_ << " (artifact root "
            << options.gateway.artifact_root << ", filter service "
            << (options.gateway.filter_address.empty() ? "not configured"
                                                       : options.gateway.filter_address)
            << ", metrics " << (options.metrics_listen.empty() ? "off" : options.metrics_listen)
            << ")";
  return gateway;
}

GatewayServer::~GatewayServer() { Shutdown(absl::Seconds(5)); }

void GatewayServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  LOG(INFO) << "Gateway shutting down; running calls get " << absl::FormatDuration(grace);
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  sampler_.reset();
  LOG(INFO) << "Gateway stopped";
}

void GatewayServer::Wait() { server_->Wait(); }

}  // namespace reftune::gateway
