// Subcommand groups of the `reftune` command line. Each function adds its group to the app and
// binds the handlers; a handler returns the process exit code through CLI11's callback.
#ifndef REFTUNE_SERVICES_CLI_COMMANDS_H_
#define REFTUNE_SERVICES_CLI_COMMANDS_H_

#include "CLI/CLI.hpp"

namespace reftune::cli {

// Exit codes that scripts can rely on.
inline constexpr int kExitOk = 0;
// The command failed: bad input, a missing file, a failed job.
inline constexpr int kExitFailure = 1;
// The command line itself was invalid.
inline constexpr int kExitUsage = 2;

// Each group adds its subcommands to `app`. A subcommand's callback stores its exit code in
// `*exit_code` (owned by main, outliving the parse). One line per group in main.cc calls these.
void AddDataCommands(CLI::App& app, int* exit_code);
void AddModelCommands(CLI::App& app, int* exit_code);
void AddMethodCommands(CLI::App& app, int* exit_code);
void AddServerCommands(CLI::App& app, int* exit_code);
void AddCustomerCommands(CLI::App& app, int* exit_code);
void AddOperatorCommands(CLI::App& app, int* exit_code);

}  // namespace reftune::cli

#endif  // REFTUNE_SERVICES_CLI_COMMANDS_H_
