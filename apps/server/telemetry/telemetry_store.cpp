// Telemetry persistence.
#include "telemetry/telemetry_store.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

namespace {
using namespace std::chrono_literals;
constexpr auto flush_interval = 5s;
constexpr auto prune_interval = 1h;
constexpr auto series_prune_interval = 5min;  // series of containers gone for a day, from memory
constexpr std::int64_t day = 24 * 3600;
constexpr std::int64_t event_retention_days = 30;
}  // namespace

void restore_telemetry(server_context& ctx) {
  auto since = unix_seconds(sys_clock::now()) - 30 * day;
  auto rows = ctx.db->load_rollups(since);
  ctx.telemetry.restore(rows);
  spdlog::info("restored {} stats rollups from the store", rows.size());
}

void flush_telemetry_now(server_context& ctx) {
  auto events = ctx.telemetry.take_events();
  auto rollups = ctx.telemetry.take_rollups();
  if (!events.empty()) ctx.db->append_events(events);
  if (!rollups.empty()) ctx.db->save_rollups(rollups);
}

net::awaitable<void> run_telemetry_flusher(server_context& ctx) {
  net::steady_timer tick(ctx.executor);
  auto last_prune = std::chrono::steady_clock::now() - prune_interval;
  auto last_series_prune = std::chrono::steady_clock::now();
  for (;;) {
    tick.expires_after(flush_interval);
    auto [ec] = co_await tick.async_wait(use_tuple);
    if (ec) co_return;
    if (std::chrono::steady_clock::now() - last_series_prune >= series_prune_interval) {
      last_series_prune = std::chrono::steady_clock::now();
      ctx.telemetry.prune_gone_series();
    }
    auto events = ctx.telemetry.take_events();
    auto rollups = ctx.telemetry.take_rollups();
    bool prune = std::chrono::steady_clock::now() - last_prune >= prune_interval;
    if (prune) last_prune = std::chrono::steady_clock::now();
    if (events.empty() && rollups.empty() && !prune) continue;
    auto now = unix_seconds(sys_clock::now());
    // Built outside co_await: g++ 12 destroys lambda temporaries in co_await expressions twice.
    auto write = ctx.with_store([events = std::move(events), rollups = std::move(rollups), prune, now](store::store& s) {
      if (!events.empty()) s.append_events(events);
      if (!rollups.empty()) s.save_rollups(rollups);
      if (prune) {
        s.prune_rollups(60, now - day);
        s.prune_rollups(900, now - 30 * day);
        s.prune_events(to_iso8601(sys_clock::time_point(std::chrono::seconds(now - event_retention_days * day))));
      }
    });
    try {
      co_await std::move(write);
    } catch (const std::exception& e) {
      spdlog::error("writing telemetry to the store failed: {}", e.what());
    }
  }
}

}  // namespace dockmon::server
