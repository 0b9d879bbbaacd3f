// Settings changes passed between replicas through the database.
#include "agents/replica_settings.hpp"

#include "agents/health_link.hpp"
#include "alerts/alert_runner.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

namespace {

// A beat reads at most this many notes; the rest wait for the next.
constexpr std::size_t notes_per_beat = 500;

}  // namespace

void begin_following_settings(server_context& ctx) {
  if (!ctx.replicas.enabled()) return;
  ctx.replicas.set_settings_seen(ctx.db->last_settings_change());
}

net::awaitable<void> tell_replicas(server_context& ctx, std::string what, std::string subject) {
  if (!ctx.replicas.enabled()) co_return;
  auto note = ctx.with_store([what, subject, by = ctx.replicas.id()](store::store& s) {
    s.note_settings_change(what, subject, by, sys_clock::now());
  });
  try {
    co_await std::move(note);
  } catch (const std::exception& e) {
    // Stored and applied here; the others have it at their next start.
    spdlog::error("the other replicas cannot be told of a change to {} {}: {}", what, subject, e.what());
  }
}

settings_news read_settings_news(store::store& s, std::int64_t after, const std::string& self) {
  settings_news news;
  news.last = after;
  bool any_check = false;
  for (auto& note : s.settings_changes_after(after, notes_per_beat)) {
    news.last = note.seq;
    if (note.by == self) continue;  // applied when it was made
    ++news.count;
    if (note.what == "alert_rule") news.rules[note.subject] = std::nullopt;
    else if (note.what == "alert_rule_snooze") news.snoozed[note.subject] = std::nullopt;
    else if (note.what == "blackouts") news.blackouts.emplace();
    else if (note.what == "tags") news.tags.emplace();
    else if (note.what == "health_check") {
      const auto slash = note.subject.find('/');
      if (slash == std::string::npos) continue;
      news.checks[{note.subject.substr(0, slash), note.subject.substr(slash + 1)}] = std::nullopt;
      any_check = true;
    }
  }
  for (auto* rules : {&news.rules, &news.snoozed})
    for (auto& [id, now] : *rules) now = s.find_alert_rule(id);
  if (news.blackouts) news.blackouts = s.list_blackouts();
  if (news.tags) news.tags = s.list_tags();
  if (any_check) {
    for (auto& row : s.list_health_checks()) {
      auto it = news.checks.find({row.host_id, row.container_name});
      if (it != news.checks.end()) it->second = std::move(row);
    }
  }
  return news;
}

void apply_settings_news(server_context& ctx, settings_news news) {
  ctx.replicas.set_settings_seen(news.last);
  if (news.count == 0) return;
  const auto now = sys_clock::now();
  if (news.tags) {
    ctx.tags.load(*news.tags);
    ctx.alerts.set_tags(ctx.tags);
  }
  if (news.blackouts) apply_blackouts(ctx, *news.blackouts);
  for (const auto& [id, rule] : news.rules) {
    if (rule) apply_stored_rule(ctx, *rule);
    else ctx.alerts.remove_rule(id, now);
  }
  for (const auto& [id, rule] : news.snoozed) {
    if (!rule || news.rules.contains(id)) continue;  // an edit brought its snooze along
    snooze_stored_rule(ctx, *rule);
  }
  for (const auto& [where, check] : news.checks) apply_stored_health_check(ctx, where.first, where.second, check);
  if (ctx.alerts.has_changes()) ctx.alerts_wake.wake();
  spdlog::info("{} settings changes made on other replicas applied", news.count);
}

}  // namespace dockmon::server
