// migrate-store: copy_store with progress on stderr and what to do next on stdout.
#include "tools/store_tool.hpp"

#include "dockmon/store/store.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace dockmon::server {

bool is_store_command(std::string_view name) { return name == "migrate-store"; }

int run_store_tool(int argc, char** argv) {
  CLI::App app{"dockmon-server migrate-store: copies everything the server keeps into a new, empty database"};
  std::string from, to;
  app.add_option("--from", from, "the database now in use, e.g. sqlite:///var/lib/dockmon/dockmon.db")->required();
  app.add_option("--to", to, "the new one, e.g. postgresql://dockmon@db:5432/dockmon (it must hold no data)")->required();
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const auto from_shown = store::redact_database_url(from);
  const auto to_shown = store::redact_database_url(to);
  std::fprintf(stderr, "copying %s to %s (stop dockmon-server first: rows written meanwhile would be missed)\n",
               from_shown.c_str(), to_shown.c_str());
  std::size_t total = 0;
  try {
    store::copy_store(from, to, [&](const store::copy_progress& p) {
      if (p.table_done) {
        total += p.rows;
        std::fprintf(stderr, "  %-22s %zu rows\n", p.table.c_str(), p.rows);
      } else {
        std::fprintf(stderr, "  %-22s %zu rows so far\n", p.table.c_str(), p.rows);
      }
    });
  } catch (const store::store_error& e) {
    std::fprintf(stderr, "dockmon-server migrate-store: %s\n", e.what());
    return 1;
  }
  std::printf("copied %zu rows; start dockmon-server with --database-url %s (and the same --data-dir: its\n"
              "secrets.key unseals the notification channels and health check credentials)\n",
              total, to_shown.c_str());
  return 0;
}

}  // namespace dockmon::server
