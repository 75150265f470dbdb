// How the CLI reaches a server: address, TLS and credentials, shared by every client subcommand.
#ifndef REFTUNE_SERVICES_CLI_CLIENT_OPTIONS_H_
#define REFTUNE_SERVICES_CLI_CLIENT_OPTIONS_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace reftune::cli {

struct ClientOptions {
  // host:port of the server.
  std::string server = "127.0.0.1:50051";
  // PEM file of the certificate authority that signed the server's certificate. Empty means
  // plaintext, which is allowed only for loopback servers.
  std::string tls_ca_file;
  // Overrides the host name checked against the server certificate (for test certificates).
  std::string tls_server_name;
  // API key sent as `authorization: Bearer <key>`.
  std::string api_key;
};

// Adds --server, --tls-ca, --tls-server-name and --api-key (default: $REFTUNE_SERVER and
// $REFTUNE_API_KEY) to `command`.
void AddClientFlags(CLI::App& command, ClientOptions* options);

// Creates a channel to options.server. INVALID_ARGUMENT for plaintext to a non-loopback address
// or an unreadable CA file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(const ClientOptions& options);

}  // namespace reftune::cli

#endif  // REFTUNE_SERVICES_CLI_CLIENT_OPTIONS_H_
