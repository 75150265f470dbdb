// The `reftune` command: offline tools for researchers and, through gRPC, the client for customers
// and operators.
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "glog/logging.h"
#include "services/cli/commands.h"

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  CLI::App app{"reftune: safety-preserving LoRA finetuning"};
  app.require_subcommand(1);
  int exit_code = reftune::cli::kExitOk;
  // One line per group; each is declared in commands.h.
  reftune::cli::AddServerCommands(app, &exit_code);
  reftune::cli::AddDataCommands(app, &exit_code);
  reftune::cli::AddModelCommands(app, &exit_code);
  reftune::cli::AddCustomerCommands(app, &exit_code);
  reftune::cli::AddOperatorCommands(app, &exit_code);
  reftune::cli::AddMethodCommands(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? reftune::cli::kExitOk : reftune::cli::kExitUsage;
  }
  return exit_code;
}
