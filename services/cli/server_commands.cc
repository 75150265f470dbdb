// Subcommands that talk to a running reftune server.
#include <chrono>
#include <iostream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services/cli/client_options.h"
#include "services/cli/commands.h"

namespace reftune::cli {
namespace {

// Asks a server's grpc.health.v1 service whether `service` (empty: the whole server) is serving.
int RunHealth(const ClientOptions& options, const std::string& service, double timeout_seconds) {
  auto channel = CreateClientChannel(options);
  if (!channel.ok()) {
    std::cerr << "reftune health: " << channel.status().message() << "\n";
    return kExitUsage;
  }

  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::cerr << "reftune health: " << options.server << " has no service \"" << service
              << "\"; check the name, or leave --service out to check the whole server\n";
    return kExitFailure;
  }
  if (!status.ok()) {
    std::cerr << "reftune health: " << options.server << " did not answer: "
              << status.error_message() << "\n";
    return kExitFailure;
  }

  const bool serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::cout << options.server << ": "
            << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
            << "\n";
  return serving ? kExitOk : kExitFailure;
}

}  // namespace

void AddServerCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ClientOptions>();
  auto service = std::make_shared<std::string>();
  auto timeout_seconds = std::make_shared<double>(5.0);

  CLI::App* health = app.add_subcommand("health", "Check that a reftune server is serving");
  AddClientFlags(*health, options.get());
  health->add_option("--service", *service,
                     "Service name to check, e.g. reftune.v1.CustomerService; empty checks the "
                     "whole server");
  health->add_option("--timeout", *timeout_seconds, "Deadline in seconds")
      ->check(CLI::PositiveNumber);
  health->callback([options, service, timeout_seconds, exit_code] {
    *exit_code = RunHealth(*options, *service, *timeout_seconds);
  });
}

}  // namespace reftune::cli
