// Helpers shared by the customer and operator subcommands: stubs with the API key attached,
// JSON or table output, and errors printed with every BadRequest violation on its own line.
#ifndef REFTUNE_SERVICES_CLI_GATEWAY_CLIENT_H_
#define REFTUNE_SERVICES_CLI_GATEWAY_CLIENT_H_

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "services/cli/client_options.h"
#include "services/cli/commands.h"

namespace reftune::cli {

// Flags every gateway subcommand takes.
struct CommonFlags {
  ClientOptions client;
  bool json = false;
};
using Common = CommonFlags;

// Adds the client flags and --json to `command`.
void AddCommon(CLI::App& command, CommonFlags* common);

// Creates a stub of `Service` and runs `body(stub)`; a bad channel is a usage error.
template <typename Service, typename Body>
int WithStub(const std::string& command, const ClientOptions& options, Body body) {
  auto channel = CreateClientChannel(options);
  if (!channel.ok()) {
    std::cerr << "reftune " << command << ": " << channel.status().message() << "\n";
    return kExitUsage;
  }
  auto stub = Service::NewStub(*channel);
  return body(*stub);
}

// The `jobs`, `screening-report`, `download` and `base-models` subcommands
// (customer_job_commands.cc).
void AddCustomerJobCommands(CLI::App& app, int* exit_code);
// The `screen` and `generate` subcommands (customer_model_commands.cc).
void AddCustomerModelCommands(CLI::App& app, int* exit_code);

// A client context with `authorization: Bearer <api key>` and a deadline of `timeout_seconds`
// (0: none).
std::unique_ptr<grpc::ClientContext> GatewayCall(const ClientOptions& options,
                                                 double timeout_seconds = 60);

// Prints "reftune <command>: <message>" and each BadRequest violation as "  <field>: <text>" to
// stderr, and returns kExitFailure.
int PrintRpcError(const std::string& command, const grpc::Status& status);

// Prints `message` as one JSON object on stdout.
void PrintJson(const google::protobuf::Message& message);

// Prints rows as a table with a header line, columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// Formats seconds since the epoch as UTC "YYYY-MM-DD HH:MM:SS"; "-" for 0.
std::string FormatTime(int64_t seconds);

}  // namespace reftune::cli

#endif  // REFTUNE_SERVICES_CLI_GATEWAY_CLIENT_H_
