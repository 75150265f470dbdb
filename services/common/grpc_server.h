// Start-up of a reftune gRPC server: listening address and TLS, message size limits, health
// checking, reflection and per-method metrics, the same for every process.
#ifndef REFTUNE_SERVICES_COMMON_GRPC_SERVER_H_
#define REFTUNE_SERVICES_COMMON_GRPC_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/metrics/metrics.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace reftune::services {

struct GrpcServerOptions {
  // host:port to listen on; port 0 picks a free port (see StartedServer::port).
  std::string listen_address = "127.0.0.1:50051";
  // PEM certificate chain and private key. Both set: TLS. Both empty: plaintext, which is allowed
  // only on a loopback address unless allow_insecure_remote is true.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool allow_insecure_remote = false;
  // Largest request or response message in bytes. Upload chunks must stay well below it.
  int max_message_bytes = 16 * 1024 * 1024;
};

struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  // The bound port, also when listen_address asked for port 0.
  int port = 0;
};

// Builds and starts a server for `services` (not owned; they must outlive the server). Health
// checking (grpc.health.v1) and server reflection are enabled; every call is counted in `metrics`
// (not owned, may be null). Fails with INVALID_ARGUMENT for bad TLS settings and UNAVAILABLE when
// the address cannot be bound.
absl::StatusOr<StartedServer> StartGrpcServer(const GrpcServerOptions& options,
                                              const std::vector<grpc::Service*>& services,
                                              metrics::Metrics* metrics);

// Returns true for 127.0.0.0/8, ::1 and localhost addresses (with or without a port).
bool IsLoopbackAddress(const std::string& address);

// Returns client credentials for a channel to another reftune server: TLS trusting the PEM CA
// certificates in `ca_file`, or plaintext when `ca_file` is empty. NOT_FOUND names a missing file.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const std::string& ca_file);

// Reads a whole file, for certificates and keys. NOT_FOUND names the path.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace reftune::services

#endif  // REFTUNE_SERVICES_COMMON_GRPC_SERVER_H_
