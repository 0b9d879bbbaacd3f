// dockmon-agent: reads its settings from the environment and keeps the host connected to dockmon-server.
#include "updates/binary_swap.hpp"
#include "core/config.hpp"
#include "link/connection.hpp"
#include "core/version.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/log.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>

using namespace dockmon;
using namespace dockmon::agent;

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0)) {
    std::printf("dockmon-agent %s\n", agent_version);
    return 0;
  }
  if (argc > 1) {
    std::fprintf(stderr,
                 "dockmon-agent takes its settings from the environment: DOCKMON_URL (required), REGISTRATION_TOKEN or "
                 "PERMANENT_TOKEN, DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_TLS, DOCKER_CERT_PATH, DATA_PATH, LOG_LEVEL, "
                 "LOG_JSON, RECONNECT_INITIAL, RECONNECT_MAX, AGENT_NAME, INSECURE_SKIP_VERIFY, DOCKMON_CA_FILE, "
                 "STATS_INTERVAL, AGENT_ALLOW, DOCKMON_UPDATE_PUBKEY, DOCKMON_UPDATE_DEADLINE, AGENT_MODE, "
                 "DOCKMON_CONTAINER_ID\n");
    return argc == 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  // A self-update on trial is judged before anything else: a build that crashed before it registered
  // must not get further than this on its second start.
  const auto update = update_files::in(data_path_setting([](const char* name) { return env_value(name); }), running_binary());
  start_check at_start;
  try {
    if (!update.binary.empty()) at_start = check_at_start(update, agent_version);
    if (at_start.decision == start_decision::roll_back) {
      roll_back_update(update, at_start.marker, "the new build exited or crashed before it registered with the server");
      const auto error = exec_agent(update.binary, argv);
      std::fprintf(stderr, "dockmon-agent: %s\n", error.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dockmon-agent: self-update check: %s; going on with this build\n", e.what());
    at_start = {};
  }
#ifdef DOCKMON_TEST_FAULTS
  // Test builds only (tests/integration): one that fails at start ("exit", the default), or one that
  // runs but never registers ("silent").
  const auto fault = env_value("DOCKMON_TEST_FAULT").value_or("exit");
  if (fault == "exit") {
    std::fprintf(stderr, "dockmon-agent %s: failing at start (test build)\n", agent_version);
    return 3;
  }
#endif
  agent_config config;
  docker::endpoint engine;
  try {
    config = load_agent_config([](const char* name) { return env_value(name); });
    init_logging(config.log_level, config.log_json);
    engine = docker::parse_docker_host(config.docker_host);
    crypto_init();
  } catch (const config_error& e) {
    std::fprintf(stderr, "dockmon-agent: bad setting %s\n", e.what());
    return 2;
  }
  if (config.docker_tls && !config.docker_tls->verify) {
    spdlog::warn("DOCKER_TLS without DOCKER_TLS_VERIFY: the Docker engine's certificate is NOT checked; anyone in "
                 "the path can pose as the engine");
  }
  try {
    net::io_context ioc(1);
    docker::client_options engine_options;
    engine_options.tls = config.docker_tls;
    docker::client docker(ioc.get_executor(), engine, engine_options);
    telemetry_options live_options;
    live_options.stats_interval = config.stats_interval;
    telemetry live(ioc.get_executor(), docker, live_options);
    self_updater self_update(
        ioc.get_executor(), config, update, at_start, argv, [&live](std::string frame) { live.emit_event(std::move(frame)); },
        [&live] { return live.events_pending(); }, &docker);
    connection link(ioc.get_executor(), config, docker, live, &self_update);
    self_update.watch_trial();
    net::co_spawn(ioc, live.run_events_forever(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    spdlog::info("dockmon-agent {} starting: server {}, engine {}{}", agent_version, config.server.describe(),
                 engine.describe(), config.docker_tls ? " over TLS" : "");
#ifdef DOCKMON_TEST_FAULTS
    if (fault != "silent")
#endif
      net::co_spawn(ioc, link.run_forever(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](error_code ec, int sig) {
      if (ec) return;
      spdlog::info("signal {}: stopping", sig);
      ioc.stop();
    });
    ioc.run();
  } catch (const config_error& e) {
    // The TLS files for the engine are loaded with the client: one that exists but does not load.
    std::fprintf(stderr, "dockmon-agent: bad setting %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dockmon-agent: %s\n", e.what());
    return 1;
  }
  return 0;
}
