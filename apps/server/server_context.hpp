// What every part of the server shares: settings, the store and its thread pool, the agent hub.
#pragma once

#include "api/agent_builds.hpp"
#include "agents/agent_hub.hpp"
#include "alerts/engine.hpp"
#include "tags/tag_book.hpp"
#include "health/health_book.hpp"
#include "auth/sign_in_limiter.hpp"
#include "core/config.hpp"
#include "telemetry/feed_watch.hpp"
#include "http/front_door.hpp"
#include "dockmon/common/run_blocking.hpp"
#include "dockmon/common/sealing.hpp"
#include "dockmon/common/wake_signal.hpp"
#include "dockmon/store/store.hpp"
#include "telemetry/live_telemetry.hpp"
#include "http/tls_setup.hpp"
#include "notify/bursts.hpp"
#include "notify/outbox.hpp"
#include "replicas/replica_registry.hpp"

#include <memory>

namespace dockmon::server {

// The two kinds of connection on the public port.
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

struct server_context {
  server_context(net::any_io_executor ex, server_config c, std::unique_ptr<store::store> s, server_tls t = {})
      : executor(ex),
        config(std::move(c)),
        tls(std::move(t)),
        door(config, tls.context != nullptr),
        db(std::move(s)),
        // SQLite has one connection, which two threads keep busy; PostgreSQL has a pool to fill.
        db_pool(config.database_url.starts_with("sqlite://") ? 2 : config.database_pool_size),
        hub(ex),
        secrets(secret_box::load_or_create(config.data_dir + "/secrets.key")) {}

  // Runs a store call on the database pool; the coroutine resumes on its I/O thread.
  template <class F>
  auto with_store(F f) {
    return run_blocking(db_pool, [this, f = std::move(f)]() mutable { return f(*db); });
  }

  net::any_io_executor executor;
  server_config config;
  server_tls tls;
  front_door door;  // connection caps, the client behind a proxy, the Host allow-list
  std::unique_ptr<store::store> db;
  net::thread_pool db_pool;
  agent_hub hub;
  live_telemetry telemetry;
  sign_in_limiter sign_in_limits;
  feed_watch feeds;                // live feeds by user, closed when their sessions end
  alerts::engine alerts;           // rules applied to events and agents' links (alerts/alert_runner)
  wake_signal alerts_wake{executor};  // the engine changed: store it now rather than at the next tick
  tag_book tags{config.tag_label};    // what users set; the engine holds a copy (set_tags)
  health_book health;                 // health checks and what the agents last said of them
  secret_box secrets;              // seals channel settings; its key is the data folder's secrets.key
  net::thread_pool notify_pool{4};  // libcurl's blocking sends (notify/outbox)
  wake_signal outbox_wake{executor};
  notify::delivery_counters notifications;
  notify::burst_grouping bursts{config.notify_burst_window};  // a host's many changes at once: one message
  replica_registry replicas{config.replica_address};  // one of several servers on one database, or not

  // A user's sessions or keys were ended (signed out everywhere, disabled, deleted, new password).
  void sessions_ended(const std::string& user_id) { feeds.wake(user_id); }
};

}  // namespace dockmon::server
