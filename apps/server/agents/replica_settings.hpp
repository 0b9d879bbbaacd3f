// What every replica keeps in memory and users change (alert rules, blackouts, tags, health checks):
// the replica a change is made on stores it, applies it, and notes it in the database; the others read
// the notes at their next beat (agents/replica_link) and apply the same change, so a rule made on one
// replica alerts on every host within a few seconds, and an agent that moves to another replica gets
// the health checks as they are now. Nothing here runs on a single server.
#pragma once

#include "server_context.hpp"

#include <map>
#include <optional>
#include <utility>

namespace dockmon::server {

// Where the notes stand now: a starting replica reads the changes made after this. Blocking; call
// before the rules and checks are loaded, so that nothing made in between is missed.
void begin_following_settings(server_context& ctx);

// Notes a change made here, stored and applied already (what, subject: store::settings_change).
net::awaitable<void> tell_replicas(server_context& ctx, std::string what, std::string subject = {});

// The changes the others made since this replica last read, with what each needs from the store.
struct settings_news {
  std::int64_t last = 0;  // the last note read
  std::size_t count = 0;  // notes by other replicas
  std::map<std::string, std::optional<store::alert_rule_record>> rules;  // by id; nullopt: deleted
  std::map<std::string, std::optional<store::alert_rule_record>> snoozed;
  std::optional<std::vector<store::blackout_record>> blackouts;
  std::optional<std::vector<store::tag_record>> tags;
  // (host id, container name) -> the check now; nullopt: removed
  std::map<std::pair<std::string, std::string>, std::optional<store::health_check_record>> checks;
};
// On the database pool.
settings_news read_settings_news(store::store& s, std::int64_t after, const std::string& self);
// On the I/O thread.
void apply_settings_news(server_context& ctx, settings_news news);

}  // namespace dockmon::server
