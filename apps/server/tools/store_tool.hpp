// `dockmon-server migrate-store --from URL --to URL`: moves an install from one database to another
// (SQLite to PostgreSQL, or back), with the server stopped.
#pragma once

#include <string_view>

namespace dockmon::server {

bool is_store_command(std::string_view name);

// Returns the process exit code (0 done, 1 failed, 2 bad usage).
int run_store_tool(int argc, char** argv);

}  // namespace dockmon::server
