// The operator's signing tool, as subcommands of dockmon-server so that no other program needs
// installing: `keygen` makes the Ed25519 key pair, `sign-agent-build` signs one build. Both run offline,
// best on a machine other than the server: the server never needs the secret key.
#pragma once

#include <string_view>

namespace dockmon::server {

// True for the names of the tool's subcommands (argv[1]).
bool is_signing_command(std::string_view name);

// Runs the subcommand in argv[1]; returns the process exit code (0 done, 1 failed, 2 bad usage).
int run_signing_tool(int argc, char** argv);

}  // namespace dockmon::server
