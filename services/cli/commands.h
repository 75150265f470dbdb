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

}  // namespace reftune::cli

#endif  // REFTUNE_SERVICES_CLI_COMMANDS_H_
