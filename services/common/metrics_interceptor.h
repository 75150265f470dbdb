// A gRPC server interceptor that counts calls by method and status code and records their latency.
#ifndef REFTUNE_SERVICES_COMMON_METRICS_INTERCEPTOR_H_
#define REFTUNE_SERVICES_COMMON_METRICS_INTERCEPTOR_H_

#include "core/metrics/metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace reftune::services {

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` is not owned and must outlive the server.
  explicit MetricsInterceptorFactory(metrics::Metrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  metrics::Metrics* metrics_;
};

}  // namespace reftune::services

#endif  // REFTUNE_SERVICES_COMMON_METRICS_INTERCEPTOR_H_
