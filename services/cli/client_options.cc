#include "services/cli/client_options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/grpc_server.h"

namespace reftune::cli {

void AddClientFlags(CLI::App& command, ClientOptions* options) {
  command.add_option("--server", options->server, "Server address host:port")
      ->envname("REFTUNE_SERVER")
      ->capture_default_str();
  command.add_option("--tls-ca", options->tls_ca_file,
                     "PEM file of the CA that signed the server certificate; enables TLS");
  command.add_option("--tls-server-name", options->tls_server_name,
                     "Host name to check in the server certificate, when it differs from --server");
  command.add_option("--api-key", options->api_key, "API key")->envname("REFTUNE_API_KEY");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(const ClientOptions& options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 * 1024 * 1024);

  if (options.tls_ca_file.empty()) {
    if (!services::IsLoopbackAddress(options.server)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plaintext is allowed only for loopback servers, got ", options.server,
          "; pass --tls-ca with the CA certificate of the server"));
    }
    return grpc::CreateCustomChannel(options.server, grpc::InsecureChannelCredentials(),
                                     arguments);
  }

  auto ca = services::ReadTextFile(options.tls_ca_file);
  if (!ca.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-ca: ", ca.status().message(), "; pass a readable PEM file"));
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl), arguments);
}

}  // namespace reftune::cli
