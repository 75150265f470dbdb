#include "services/common/grpc_server.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/common/metrics_interceptor.h"

namespace reftune::services {
namespace {

std::string HostOf(const std::string& address) {
  if (absl::StartsWith(address, "[")) {
    const size_t end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  const size_t colon = address.rfind(':');
  // A bare IPv6 address has several colons and no port.
  if (colon == std::string::npos || address.find(':') != colon) return address;
  return address.substr(0, colon);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const GrpcServerOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate file and a key file; set both or neither");
  }
  if (!has_cert) {
    if (!IsLoopbackAddress(options.listen_address) && !options.allow_insecure_remote) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plaintext gRPC is not allowed on non-loopback address ", options.listen_address,
          ": pass a TLS certificate and key, or allow insecure remote listening explicitly"));
    }
    return grpc::InsecureServerCredentials();
  }

  auto cert = ReadTextFile(options.tls_cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadTextFile(options.tls_key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  const std::string host = HostOf(address);
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open file ", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const std::string& ca_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<std::string> ca = ReadTextFile(ca_file);
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *std::move(ca);
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<StartedServer> StartGrpcServer(const GrpcServerOptions& options,
                                              const std::vector<grpc::Service*>& services,
                                              metrics::Metrics* metrics) {
  auto credentials = MakeCredentials(options);
  if (!credentials.ok()) return credentials.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  StartedServer started;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, *credentials, &started.port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<MetricsInterceptorFactory>(metrics));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }

  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("failed to listen on ", options.listen_address, "; is the port in use?"));
  }
  started.server->GetHealthCheckService()->SetServingStatus(true);
  LOG(INFO) << "gRPC server listening on " << options.listen_address << " (port " << started.port
            << (options.tls_cert_file.empty() ? ", plaintext)" : ", TLS)");
  return started;
}

}  // namespace reftune::services
