// dockmon-server: reads its settings, opens the store, and serves HTTP, the REST API and agents on one port.
#include "agents/health_link.hpp"
#include "agents/housekeeping.hpp"
#include "agents/replica_link.hpp"
#include "agents/replica_settings.hpp"
#include "alerts/alert_runner.hpp"
#include "api/router.hpp"
#include "auth/auth.hpp"
#include "core/config.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/log.hpp"
#include "http/listener.hpp"
#include "server_context.hpp"
#include "telemetry/telemetry_store.hpp"
#include "tools/signing_tool.hpp"
#include "tools/store_tool.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include <sys/resource.h>
#include <filesystem>

using namespace dockmon;
using namespace dockmon::server;

namespace {

// Every connection is a descriptor: take the hard limit the system allows, and say so when it is below
// what --max-connections promises (accepts beyond it fail, and the listener backs off meanwhile).
void raise_open_file_limit(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr rlim_t reserve = 64;  // the database, TLS files, agent builds
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + reserve)
    spdlog::warn("the open-file limit ({}) is below --max-connections ({}) plus a reserve of {}: raise it (ulimit -n, "
                 "LimitNOFILE=) or connections beyond the limit will be refused by the system",
                 limit.rlim_cur, max_connections, reserve);
}

// `dockmon-server routes`: the REST routes with their roles, one JSON object per line.
int print_routes() {
  for (const auto& r : api_routes()) {
    json::object line{{"method", std::string(http::to_string(r.method))}, {"path", r.pattern}, {"role", access_name(r.role)}};
    std::printf("%s\n", json::serialize(line).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && is_signing_command(argv[1])) return run_signing_tool(argc, argv);
  if (argc > 1 && is_store_command(argv[1])) return run_store_tool(argc, argv);
  if (argc == 2 && std::string_view(argv[1]) == "routes") return print_routes();
  server_config config;
  try {
    config = parse_server_config(argc, argv);
    init_logging(config.log_level, config.log_json);
    crypto_init();
    notify::init_sender();
  } catch (const config_error& e) {
    std::fprintf(stderr, "dockmon-server: bad setting %s\n", e.what());
    return 2;
  }
  try {
    std::filesystem::create_directories(config.data_dir);
    store::store_options store_settings;
    store_settings.pool_size = config.database_pool_size;
    auto db = store::open_store(config.database_url, store_settings);
    db->mark_all_agents_offline(sys_clock::now());
    if (auto generated = bootstrap_admin(*db, config.admin_password); !generated.empty()) {
      std::printf("admin password (shown once): %s\n", generated.c_str());
      std::fflush(stdout);
    }
    auto tls = make_server_tls(config);
    if (!tls.context && !is_loopback(config.listen.host))
      spdlog::warn("--tls off: serving plain HTTP on {}; put a TLS proxy in front", config.listen.host);
    const std::string scheme = tls.context ? "https" : "http";
    const std::string pin = tls.public_key_pin;

    raise_open_file_limit(config.max_connections);
    net::io_context ioc(1);
    server_context ctx(ioc.get_executor(), config, std::move(db), std::move(tls));
    restore_telemetry(ctx);
    begin_following_settings(ctx);  // before loading what the other replicas may change meanwhile
    start_alerts(ctx);
    load_health_checks(ctx);
    announce_replica(ctx);
    auto acceptor = bind_listener(ioc.get_executor(), config.listen);
    auto bound = acceptor.local_endpoint();
    std::printf("dockmon-server %s listening on %s://%s:%u\n", DOCKMON_VERSION, scheme.c_str(),
                bound.address().to_string().c_str(), static_cast<unsigned>(bound.port()));
    if (!pin.empty()) {
      // What agents pin when the certificate is not signed by a CA they trust (self-signed).
      std::printf("TLS public key pin: DOCKMON_PINNED_PUBKEY=%s\n", pin.c_str());
    }
    std::fflush(stdout);
    spdlog::info("listening on {}:{}, database {}", bound.address().to_string(), bound.port(),
                 store::redact_database_url(config.database_url));

    net::co_spawn(ioc, accept_loop(ctx, std::move(acceptor)), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    net::co_spawn(ioc, run_telemetry_flusher(ctx), net::detached);
    net::co_spawn(ioc, run_housekeeping(ctx), net::detached);
    net::co_spawn(ioc, run_alert_engine(ctx), net::detached);
    net::co_spawn(ioc, run_server_checks(ctx), net::detached);
    net::co_spawn(ioc, notify::run_outbox(ctx), net::detached);
    net::co_spawn(ioc, run_replica_link(ctx), net::detached);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](error_code ec, int sig) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", sig);
      ctx.hub.close_all("server shutting down");
      ioc.stop();
    });
    ioc.run();
    ctx.notify_pool.join();
    ctx.db_pool.join();
    retire_replica(ctx);
    flush_telemetry_now(ctx);
    save_alert_changes(ctx);
  } catch (const config_error& e) {
    std::fprintf(stderr, "dockmon-server: bad setting %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dockmon-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
