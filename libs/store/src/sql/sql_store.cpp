// The store's queries, written once for SQLite and PostgreSQL: parameterised statements only, one
// transaction per multi-row change, and read-then-write decisions taken again inside their transaction so
// that several servers sharing one database cannot both take them.
#include "sql/sql_store.hpp"

#include "dockmon/common/crypto.hpp"

#include <algorithm>
#include <string>

namespace dockmon::store::sql {

namespace {

const char* select_host_sql =
    "SELECT h.id, h.name, h.connection_type, h.os_type, h.os_version, h.kernel_version, h.docker_version, "
    "h.daemon_started_at, h.total_memory, h.num_cpus, h.created_at, h.updated_at, "
    "a.id, a.engine_id, a.version, a.proto_version, a.capabilities, a.status, a.last_seen_at, a.registered_at, "
    "a.revoked_at, a.arch FROM docker_hosts h LEFT JOIN agents a ON a.host_id = h.id ";

host_record read_host(const statement& s) {
  host_record h;
  h.id = s.text(0);
  h.name = s.text(1);
  h.connection_type = s.text(2);
  h.info.hostname = h.name;
  h.info.os_type = s.text(3);
  h.info.os_version = s.text(4);
  h.info.kernel_version = s.text(5);
  h.info.docker_version = s.text(6);
  h.info.daemon_started_at = s.text(7);
  h.info.total_memory = s.int64(8);
  h.info.num_cpus = s.int64(9);
  h.created_at = s.text(10);
  h.updated_at = s.text(11);
  if (!s.is_null(12)) {
    agent_record a;
    a.id = s.text(12);
    a.host_id = h.id;
    a.engine_id = s.text(13);
    a.version = s.text(14);
    a.proto_version = s.text(15);
    a.capabilities = s.text(16);
    a.status = s.text(17);
    a.last_seen_at = s.text(18);
    a.registered_at = s.text(19);
    a.revoked_at = s.text(20);
    a.arch = s.text(21);
    h.agent = std::move(a);
  }
  return h;
}

// Event times are compared as text, which orders correctly only in one form: to_iso8601's, to the second
// ("...:00.500Z" would sort before "...:00Z"). Text that is not a time is kept as given.
std::string canonical_time(std::string_view text) {
  auto t = parse_iso8601(text);
  return t ? to_iso8601(*t) : std::string(text);
}

const char* select_build_sql =
    "SELECT version, arch, sha256, signature, size, created_at, created_by_user_id FROM agent_builds ";

const char* select_alert_rule_sql = "SELECT id, name, enabled, definition, created_at, updated_at FROM alert_rules ";

alert_rule_record read_alert_rule(const statement& s) {
  return alert_rule_record{s.text(0), s.text(1), s.int64(2) != 0, s.text(3), s.text(4), s.text(5)};
}

stats_rollup_row read_rollup(const statement& s) {
  stats_rollup_row r;
  r.key = s.text(0);
  r.step = s.int64(1);
  r.t = s.int64(2);
  r.cpu_percent = s.real(3);
  r.memory_usage = s.real(4);
  r.memory_limit = s.real(5);
  r.memory_percent = s.real(6);
  r.network_rx = s.real(7);
  r.network_tx = s.real(8);
  r.disk_read = s.real(9);
  r.disk_write = s.real(10);
  r.pids = s.real(11);
  return r;
}

// Rows of every series from a time on, in the order both readers want them.
constexpr const char* select_rollups_sql =
    "SELECT key, step, t, cpu_percent, memory_usage, memory_limit, memory_percent, network_rx, network_tx, "
    "disk_read, disk_write, pids FROM stats_rollups WHERE t >= ?1 ORDER BY key, step, t";

event_record read_event(const statement& s) {
  event_record e;
  e.id = s.int64(0);
  e.host_id = s.text(1);
  e.container_id = s.text(2);
  e.container_name = s.text(3);
  e.image = s.text(4);
  e.type = s.text(5);
  e.action = s.text(6);
  e.attributes = s.text(7);
  e.timestamp = s.text(8);
  return e;
}

const char* select_channel_sql = "SELECT id, name, type, sealed_config, enabled, created_at, updated_at FROM notification_channels ";

channel_record read_channel(const statement& s) {
  return channel_record{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4) != 0, s.text(5), s.text(6)};
}

const char* select_notification_sql =
    "SELECT id, alert_id, channel_id, message, state, attempts, next_attempt_ms, last_error, created_at, sent_at, group_key "
    "FROM notifications ";

notification_record read_notification(const statement& s) {
  return notification_record{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), static_cast<int>(s.int64(5)),
                             s.int64(6), s.text(7), s.text(8), s.text(9), s.text(10)};
}

const char* select_alert_sql =
    "SELECT id, rule_id, host_id, container_id, target_name, kind, severity, state, message, fired_at, resolved_at, "
    "acknowledged_at, acknowledged_by, snoozed_until, notified FROM alerts ";

alert_record read_alert(const statement& s) {
  return alert_record{s.text(0),  s.text(1),  s.text(2),  s.text(3),  s.text(4),  s.text(5),  s.text(6),       s.text(7),
                      s.text(8),  s.text(9),  s.text(10), s.text(11), s.text(12), s.text(13), s.int64(14) != 0};
}

agent_build_record read_build(const statement& s) {
  return agent_build_record{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4), s.text(5), s.text(6)};
}

}  // namespace

sql_store::sql_store(std::unique_ptr<database> db) : db_(std::move(db)) {}

bool sql_store::ping() noexcept { return db_->ping(); }

std::size_t sql_store::count_users() {
  auto c = db_->acquire();
  statement s(**c, "SELECT COUNT(*) FROM users");
  return s.step() ? static_cast<std::size_t>(s.int64(0)) : 0;
}

user sql_store::create_user(std::string_view username, std::string_view password_hash, std::string_view role) {
  auto c = db_->acquire();
  user u{random_uuid(), std::string(username), std::string(password_hash), std::string(role)};
  statement s(**c, "INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind_all(u.id, u.username, u.password_hash, u.role, now_iso8601());
  try {
    s.run();
  } catch (const store_error&) {
    if (s.unique_violation()) {
      throw store_error("user name '" + u.username + "' is already taken");
    }
    throw;
  }
  return u;
}

std::optional<user> sql_store::find_user_by_name(std::string_view username) {
  auto c = db_->acquire();
  statement s(**c, "SELECT id, username, password_hash, role, disabled FROM users WHERE username = ?1");
  s.bind_all(username);
  if (!s.step()) return std::nullopt;
  return user{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4) != 0};
}

std::optional<user> sql_store::find_user(std::string_view user_id) {
  auto c = db_->acquire();
  statement s(**c, "SELECT id, username, password_hash, role, disabled FROM users WHERE id = ?1");
  s.bind_all(user_id);
  if (!s.step()) return std::nullopt;
  return user{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4) != 0};
}

std::vector<user_record> sql_store::list_users() {
  auto c = db_->acquire();
  statement s(**c, "SELECT id, username, role, created_at, disabled FROM users ORDER BY username");
  std::vector<user_record> users;
  while (s.step()) users.push_back(user_record{s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4) != 0});
  return users;
}

bool sql_store::would_leave_no_admin(connection& conn, std::string_view user_id) {
  statement s(conn, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?1");
  s.bind_all(user_id);
  return s.step() && s.int64(0) == 0;
}

user_change sql_store::update_user(std::string_view user_id, std::optional<std::string> role,
                                      std::optional<bool> disabled) {
  auto c = db_->acquire();
  transaction tx(**c);
  std::string current_role;
  bool currently_disabled = false;
  {
    statement s(**c, "SELECT role, disabled FROM users WHERE id = ?1");
    s.bind_all(user_id);
    if (!s.step()) return user_change::not_found;
    current_role = s.text(0);
    currently_disabled = s.int64(1) != 0;
  }
  const std::string new_role = role.value_or(current_role);
  const bool new_disabled = disabled.value_or(currently_disabled);
  const bool was_admin = current_role == "admin" && !currently_disabled;
  const bool stays_admin = new_role == "admin" && !new_disabled;
  if (was_admin && !stays_admin && would_leave_no_admin(**c, user_id)) return user_change::last_admin;
  {
    statement s(**c, "UPDATE users SET role = ?2, disabled = ?3 WHERE id = ?1");
    s.bind_all(user_id, new_role, std::int64_t{new_disabled ? 1 : 0}).run();
  }
  if (new_disabled) {
    statement s(**c, "DELETE FROM sessions WHERE user_id = ?1");
    s.bind_all(user_id).run();
  }
  tx.commit();
  return user_change::ok;
}

user_change sql_store::delete_user(std::string_view user_id) {
  auto c = db_->acquire();
  transaction tx(**c);
  {
    statement s(**c, "SELECT role, disabled FROM users WHERE id = ?1");
    s.bind_all(user_id);
    if (!s.step()) return user_change::not_found;
    if (s.text(0) == "admin" && s.int64(1) == 0 && would_leave_no_admin(**c, user_id)) return user_change::last_admin;
  }
  statement s(**c, "DELETE FROM users WHERE id = ?1");  // sessions and keys go with it (ON DELETE CASCADE)
  s.bind_all(user_id).run();
  tx.commit();
  return user_change::ok;
}

void sql_store::set_password_hash(std::string_view user_id, std::string_view password_hash) {
  auto c = db_->acquire();
  statement s(**c, "UPDATE users SET password_hash = ?2 WHERE id = ?1");
  s.bind_all(user_id, password_hash).run();
}

void sql_store::create_session(std::string_view token_hash, std::string_view user_id,
                                  sys_clock::time_point expires_at) {
  auto c = db_->acquire();
  statement s(**c, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
  s.bind_all(token_hash, user_id, now_iso8601(), to_iso8601(expires_at)).run();
}

std::optional<principal> sql_store::find_session(std::string_view token_hash, sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id "
              "WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0");
  s.bind_all(token_hash, to_iso8601(now));
  if (!s.step()) return std::nullopt;
  return principal{s.text(0), s.text(1), s.text(2), "session", {}, {}};
}

void sql_store::delete_session(std::string_view token_hash) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM sessions WHERE token_hash = ?1");
  s.bind_all(token_hash).run();
}

std::size_t sql_store::delete_sessions_of_user(std::string_view user_id, std::string_view except) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2");
  s.bind_all(user_id, except).run();
  return s.changes();
}

std::size_t sql_store::revoke_api_keys_of_user(std::string_view user_id) {
  auto c = db_->acquire();
  statement s(**c, "UPDATE api_keys SET revoked = 1 WHERE user_id = ?1 AND revoked = 0");
  s.bind_all(user_id).run();
  return s.changes();
}

std::string sql_store::create_api_key(std::string_view name, std::string_view key_hash, std::string_view user_id,
                                         std::string_view role, std::optional<sys_clock::time_point> expires_at,
                                         std::string_view parent_key_id) {
  auto c = db_->acquire();
  std::string id = random_uuid();
  statement s(**c,
              "INSERT INTO api_keys (id, name, key_hash, user_id, role, created_at, expires_at, parent_key_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  s.bind_all(id, name, key_hash, user_id, role, now_iso8601());
  if (expires_at) s.bind(7, to_iso8601(*expires_at));
  if (!parent_key_id.empty()) s.bind(8, parent_key_id);
  s.run();
  return id;
}

std::vector<api_key_record> sql_store::list_api_keys(std::string_view user_id) {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT k.id, k.name, k.user_id, u.username, k.role, k.created_at, k.expires_at, k.revoked "
              "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE ?1 = '' OR k.user_id = ?1 "
              "ORDER BY k.created_at DESC, k.id");
  s.bind_all(user_id);
  std::vector<api_key_record> keys;
  while (s.step()) {
    keys.push_back(api_key_record{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6),
                                  s.int64(7) != 0});
  }
  return keys;
}

bool sql_store::revoke_api_key(std::string_view key_id, std::string_view owner_user_id) {
  auto c = db_->acquire();
  transaction tx(**c);
  {
    statement s(**c, "SELECT 1 FROM api_keys WHERE id = ?1 AND (?2 = '' OR user_id = ?2)");
    s.bind_all(key_id, owner_user_id);
    if (!s.step()) return false;
  }
  // The key and every key made with it, however deep: a key cannot outlive the key that made it.
  statement s(**c,
              "WITH RECURSIVE made(id) AS (SELECT id FROM api_keys WHERE id = ?1 UNION "
              "SELECT k.id FROM api_keys k JOIN made ON k.parent_key_id = made.id) "
              "UPDATE api_keys SET revoked = 1 WHERE id IN (SELECT id FROM made)");
  s.bind_all(key_id).run();
  tx.commit();
  return true;
}

std::optional<principal> sql_store::find_api_key(std::string_view key_hash) {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT u.id, u.username, k.role, u.role, k.id, COALESCE(k.expires_at, '') FROM api_keys k "
              "JOIN users u ON u.id = k.user_id "
              "WHERE k.key_hash = ?1 AND k.revoked = 0 AND u.disabled = 0 AND (k.expires_at IS NULL OR k.expires_at > ?2)");
  s.bind_all(key_hash, now_iso8601());
  if (!s.step()) return std::nullopt;
  // A key never outranks its user: a user demoted after making it takes the key down too.
  auto key_role = s.text(2);
  auto user_role = s.text(3);
  return principal{s.text(0), s.text(1), role_rank(user_role) < role_rank(key_role) ? user_role : key_role, "api_key",
                   s.text(4), s.text(5)};
}

void sql_store::create_registration_token(std::string_view token_hash, std::string_view user_id,
                                             sys_clock::time_point expires_at, std::string_view host_id) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO registration_tokens (token_hash, created_by_user_id, created_at, expires_at, used, host_id) "
              "VALUES (?1, ?2, ?3, ?4, 0, ?5)");
  s.bind_all(token_hash, user_id, now_iso8601(), to_iso8601(expires_at), std::nullopt);
  if (!host_id.empty()) s.bind(5, host_id);
  s.run();
}

void sql_store::refresh_agent(connection& conn, std::string_view agent_id, std::string_view host_id, std::string_view token_hash,
                                 std::string_view next_token_hash, const agent_registration& reg,
                                 const std::string& now) {
  {
    // engine_id is set too: a re-attach may bring the host back on a reinstalled engine. A permanent
    // token presents the engine id it is bound to, so nothing changes there.
    statement s(conn,
                "UPDATE agents SET token_hash = ?2, next_token_hash = ?3, version = ?4, proto_version = ?5, "
                "capabilities = ?6, status = 'online', last_seen_at = ?7, arch = ?8, engine_id = ?9 WHERE id = ?1");
    s.bind_all(agent_id, token_hash, std::nullopt, reg.version, reg.proto_version, reg.capabilities, now, reg.arch,
               reg.engine_id);
    if (!next_token_hash.empty()) s.bind(3, next_token_hash);
    s.run();
  }
  statement s(conn,
              "UPDATE docker_hosts SET os_type = ?2, os_version = ?3, kernel_version = ?4, docker_version = ?5, "
              "daemon_started_at = ?6, total_memory = ?7, num_cpus = ?8, updated_at = ?9 WHERE id = ?1");
  s.bind_all(host_id, reg.info.os_type, reg.info.os_version, reg.info.kernel_version, reg.info.docker_version,
             reg.info.daemon_started_at, reg.info.total_memory, reg.info.num_cpus, now)
      .run();
}

registration_status sql_store::check_registration_token(connection& conn, std::string_view token_hash, const std::string& now,
                                                           std::string& host_id) {
  statement s(conn, "SELECT used, expires_at, COALESCE(host_id, '') FROM registration_tokens WHERE token_hash = ?1");
  s.bind_all(token_hash);
  if (!s.step()) return registration_status::unknown_token;
  if (s.int64(0) != 0) return registration_status::used_token;
  if (s.text(1) <= now) return registration_status::expired_token;
  host_id = s.text(2);
  return registration_status::ok;
}

registration_outcome sql_store::register_with_token(std::string_view registration_token_hash,
                                                       std::string_view permanent_token_hash,
                                                       const agent_registration& reg, sys_clock::time_point now) {
  auto c = db_->acquire();
  const std::string now_text = to_iso8601(now);
  registration_outcome out;
  std::string reattach_host;
  // A made-up token is refused on a read: only a token an admin minted gets to take the write lock.
  out.status = check_registration_token(**c, registration_token_hash, now_text, reattach_host);
  if (out.status != registration_status::ok) return out;
  transaction tx(**c);
  // Decided again under the write lock: another server sharing the database may have spent the token or
  // registered the engine in between.
  out.status = check_registration_token(**c, registration_token_hash, now_text, reattach_host);
  if (out.status != registration_status::ok) return out;
  if (reg.force_unique && reattach_host.empty() && reg.hostname_source != "agent_name") {
    out.status = registration_status::needs_agent_name;
    return out;
  }
  // The agent holding this engine id (force_unique agents share theirs and are not looked at).
  std::string holder_agent, holder_host;
  bool holder_revoked = false;
  {
    statement s(**c, "SELECT id, host_id, revoked_at FROM agents WHERE engine_id = ?1 AND force_unique = 0");
    s.bind_all(reg.engine_id);
    if (s.step()) {
      holder_agent = s.text(0);
      holder_host = s.text(1);
      holder_revoked = !s.is_null(2);
    }
  }
  if (!reattach_host.empty()) {
    // An admin minted this token for one host: the agent takes that host over, whatever engine it is on
    // now, unless the engine is another host's.
    statement s(**c, "SELECT id FROM agents WHERE host_id = ?1");
    s.bind_all(reattach_host);
    if (!s.step()) {
      out.status = registration_status::host_gone;
      return out;
    }
    out.agent_id = s.text(0);
    out.host_id = reattach_host;
    if (!holder_agent.empty() && holder_host != reattach_host) {
      out.status = registration_status::engine_taken;
      return out;
    }
  } else if (!holder_agent.empty() && !reg.force_unique) {
    out.status = holder_revoked ? registration_status::revoked : registration_status::engine_taken;
    return out;
  }

  if (!reattach_host.empty()) {
    refresh_agent(**c, out.agent_id, out.host_id, permanent_token_hash, {}, reg, now_text);
    statement s(**c, "UPDATE agents SET revoked_at = NULL, force_unique = 0 WHERE id = ?1");
    s.bind_all(out.agent_id).run();
  } else {
    out.agent_id = random_uuid();
    out.host_id = random_uuid();
    {
      statement s(**c,
                  "INSERT INTO docker_hosts (id, name, connection_type, os_type, os_version, kernel_version, "
                  "docker_version, daemon_started_at, total_memory, num_cpus, created_at, updated_at) "
                  "VALUES (?1, ?2, 'agent', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)");
      s.bind_all(out.host_id, reg.info.hostname, reg.info.os_type, reg.info.os_version, reg.info.kernel_version,
                 reg.info.docker_version, reg.info.daemon_started_at, reg.info.total_memory, reg.info.num_cpus,
                 now_text)
          .run();
    }
    statement s(**c,
                "INSERT INTO agents (id, host_id, engine_id, version, proto_version, capabilities, status, "
                "last_seen_at, registered_at, token_hash, arch, force_unique) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'online', ?7, ?7, ?8, ?9, ?10)");
    s.bind_all(out.agent_id, out.host_id, reg.engine_id, reg.version, reg.proto_version, reg.capabilities, now_text,
               permanent_token_hash, reg.arch, std::int64_t{reg.force_unique ? 1 : 0})
        .run();
  }
  {
    statement s(**c, "UPDATE registration_tokens SET used = 1, used_at = ?2 WHERE token_hash = ?1");
    s.bind_all(registration_token_hash, now_text).run();
  }
  tx.commit();
  out.status = registration_status::ok;
  return out;
}

registration_status sql_store::find_agent_by_token(connection& conn, std::string_view token_hash,
                                                   const agent_registration& reg, registration_outcome& out) {
  statement s(conn, "SELECT id, host_id, engine_id, revoked_at FROM agents WHERE token_hash = ?1 OR next_token_hash = ?1");
  s.bind_all(token_hash);
  if (!s.step()) return registration_status::unknown_token;
  if (!s.is_null(3)) return registration_status::revoked;
  if (s.text(2) != reg.engine_id) return registration_status::wrong_engine;
  out.agent_id = s.text(0);
  out.host_id = s.text(1);
  return registration_status::ok;
}

registration_outcome sql_store::reconnect_with_permanent_token(std::string_view permanent_token_hash,
                                                                  std::string_view next_token_hash,
                                                                  const agent_registration& reg,
                                                                  sys_clock::time_point now) {
  auto c = db_->acquire();
  const std::string now_text = to_iso8601(now);
  registration_outcome out;
  // Looked up before the transaction, so that a made-up token never takes the write lock, and again
  // inside it, where no other server sharing the database can revoke the agent in between.
  out.status = find_agent_by_token(**c, permanent_token_hash, reg, out);
  if (out.status != registration_status::ok) return out;
  transaction tx(**c);
  out.status = find_agent_by_token(**c, permanent_token_hash, reg, out);
  if (out.status != registration_status::ok) return out;
  // The presented token becomes the current one (retiring its predecessor when it was the next one).
  refresh_agent(**c, out.agent_id, out.host_id, permanent_token_hash, next_token_hash, reg, now_text);
  tx.commit();
  out.status = registration_status::ok;
  return out;
}

bool sql_store::revoke_agent(std::string_view host_id, sys_clock::time_point now) {
  auto c = db_->acquire();
  // The token's hash stays so that the agent is told it was revoked rather than that its token is unknown.
  statement s(**c, "UPDATE agents SET revoked_at = ?2, status = 'offline', next_token_hash = NULL WHERE host_id = ?1");
  s.bind_all(host_id, to_iso8601(now)).run();
  return s.changes() > 0;
}

std::vector<removed_agent> sql_store::remove_agents_offline_since(sys_clock::time_point cutoff) {
  auto c = db_->acquire();
  const auto cutoff_text = to_iso8601(cutoff);
  std::vector<removed_agent> removed;
  transaction tx(**c);
  {
    // Never seen counts from registration.
    statement s(**c,
                "SELECT a.id, a.host_id, h.name, COALESCE(a.last_seen_at, a.registered_at) FROM agents a "
                "JOIN docker_hosts h ON h.id = a.host_id "
                "WHERE a.status <> 'online' AND COALESCE(a.last_seen_at, a.registered_at) < ?1");
    s.bind_all(cutoff_text);
    while (s.step()) removed.push_back(removed_agent{s.text(0), s.text(1), s.text(2), s.text(3)});
  }
  for (const auto& r : removed) {
    statement s(**c, "DELETE FROM docker_hosts WHERE id = ?1");  // the agent goes with it (ON DELETE CASCADE)
    s.bind_all(r.host_id).run();
  }
  tx.commit();
  return removed;
}

void sql_store::set_agent_status(std::string_view agent_id, std::string_view status,
                                    sys_clock::time_point last_seen) {
  auto c = db_->acquire();
  statement s(**c, "UPDATE agents SET status = ?2, last_seen_at = ?3 WHERE id = ?1");
  s.bind_all(agent_id, status, to_iso8601(last_seen)).run();
}

void sql_store::mark_all_agents_offline(sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "UPDATE agents SET status = 'offline' WHERE status <> 'offline' AND host_id NOT IN "
                   "(SELECT h.host_id FROM agent_holders h JOIN replicas r ON r.id = h.replica_id WHERE r.seen_until > ?1)");
  s.bind_all(to_iso8601(now, true)).run();
}

std::vector<host_record> sql_store::list_hosts() {
  auto c = db_->acquire();
  statement s(**c, std::string(select_host_sql) + "ORDER BY h.name, h.id");
  std::vector<host_record> hosts;
  while (s.step()) hosts.push_back(read_host(s));
  return hosts;
}

std::optional<host_record> sql_store::find_host(std::string_view host_id) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_host_sql) + "WHERE h.id = ?1");
  s.bind_all(host_id);
  if (!s.step()) return std::nullopt;
  return read_host(s);
}

void sql_store::append_audit(std::string_view user_id, std::string_view action, std::string_view target,
                                std::string_view result, sys_clock::time_point at) {
  auto c = db_->acquire();
  statement s(**c, "INSERT INTO audit_log (at, user_id, action, target, result) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind_all(to_iso8601(at), user_id, action, target, result).run();
}

std::vector<audit_record> sql_store::list_audit(std::string_view since, std::size_t limit) {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT l.id, l.at, l.user_id, COALESCE(u.username, ''), l.action, l.target, l.result FROM audit_log l "
              "LEFT JOIN users u ON u.id = l.user_id WHERE ?1 = '' OR l.at >= ?1 ORDER BY l.id DESC LIMIT ?2");
  s.bind_all(since.empty() ? std::string() : canonical_time(since),
             static_cast<std::int64_t>(std::min(limit, max_audit_limit)));
  std::vector<audit_record> out;
  while (s.step()) out.push_back(audit_record{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
  return out;
}

void sql_store::save_rollups(const std::vector<stats_rollup_row>& rows) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement s(**c,
              "INSERT INTO stats_rollups (key, step, t, cpu_percent, memory_usage, memory_limit, memory_percent, "
              "network_rx, network_tx, disk_read, disk_write, pids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
              "?11, ?12) ON CONFLICT (key, step, t) DO UPDATE SET cpu_percent = excluded.cpu_percent, "
              "memory_usage = excluded.memory_usage, memory_limit = excluded.memory_limit, "
              "memory_percent = excluded.memory_percent, network_rx = excluded.network_rx, "
              "network_tx = excluded.network_tx, disk_read = excluded.disk_read, disk_write = excluded.disk_write, "
              "pids = excluded.pids");
  for (const auto& r : rows) {
    s.bind_all(r.key, r.step, r.t, r.cpu_percent, r.memory_usage, r.memory_limit, r.memory_percent, r.network_rx,
               r.network_tx, r.disk_read, r.disk_write, r.pids)
        .run();
    s.reset();
  }
  tx.commit();
}

std::vector<stats_rollup_row> sql_store::load_rollups(std::int64_t since_t) {
  auto c = db_->acquire();
  statement s(**c, select_rollups_sql);
  s.bind_all(since_t);
  std::vector<stats_rollup_row> rows;
  while (s.step()) rows.push_back(read_rollup(s));
  return rows;
}

void sql_store::for_each_rollup_series(std::int64_t since_t,
                                          const std::function<void(const std::string&, const std::vector<stats_rollup_row>&)>& fn) {
  auto c = db_->acquire();
  statement s(**c, select_rollups_sql);
  s.bind_all(since_t);
  std::vector<stats_rollup_row> series;
  while (s.step()) {
    auto row = read_rollup(s);
    if (!series.empty() && series.front().key != row.key) {
      fn(series.front().key, series);
      series.clear();
    }
    series.push_back(std::move(row));
  }
  if (!series.empty()) fn(series.front().key, series);
}

std::size_t sql_store::prune_rollups(std::int64_t step, std::int64_t before_t) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM stats_rollups WHERE step = ?1 AND t < ?2");
  s.bind_all(step, before_t).run();
  return s.changes();
}

void sql_store::append_events(const std::vector<event_record>& events) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement s(**c,
              "INSERT INTO events (host_id, container_id, container_name, image, type, action, attributes, timestamp) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (const auto& e : events) {
    s.bind_all(e.host_id, e.container_id, e.container_name, e.image, e.type, e.action, e.attributes,
               canonical_time(e.timestamp))
        .run();
    s.reset();
  }
  tx.commit();
}

std::vector<event_record> sql_store::list_events(const event_filter& f) {
  auto c = db_->acquire();
  // Only fixed fragments go into the SQL text; every value is bound. Conditions that do not apply are left
  // out rather than written as "(?1 = '' OR ...)", which would keep the database from using the indexes;
  // the parameters are numbered in the order they appear (PostgreSQL wants every number it is given used).
  std::string sql =
      "SELECT id, host_id, container_id, container_name, image, type, action, attributes, timestamp FROM events "
      "WHERE 1 = 1";
  std::vector<std::string> values;
  auto condition = [&](std::string_view column_and_operator, std::string value) {
    values.push_back(std::move(value));
    sql += " AND ";
    sql += column_and_operator;
    sql += " ?" + std::to_string(values.size());
  };
  if (!f.host_id.empty()) condition("host_id =", f.host_id);
  if (!f.container_id.empty()) condition("container_id =", f.container_id);
  if (!f.since.empty()) condition("timestamp >=", canonical_time(f.since));
  if (!f.until.empty()) condition("timestamp <=", canonical_time(f.until));
  if (!f.type.empty()) condition("type =", f.type);
  sql += " ORDER BY timestamp DESC, id DESC LIMIT ?" + std::to_string(values.size() + 1);
  statement s(**c, sql);
  int index = 0;
  for (const auto& v : values) s.bind(++index, v);
  s.bind(++index, static_cast<std::int64_t>(std::min(f.limit, max_event_limit)));
  std::vector<event_record> events;
  while (s.step()) events.push_back(read_event(s));
  return events;
}

std::vector<event_record> sql_store::events_since(std::string_view since, std::size_t limit) {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT id, host_id, container_id, container_name, image, type, action, attributes, timestamp FROM events "
              "WHERE timestamp >= ?1 ORDER BY timestamp, id LIMIT ?2");
  s.bind_all(canonical_time(since), static_cast<std::int64_t>(std::min(limit, max_replay_events)));
  std::vector<event_record> events;
  while (s.step()) events.push_back(read_event(s));
  return events;
}

std::size_t sql_store::prune_events(std::string_view before_timestamp) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM events WHERE timestamp < ?1");
  s.bind_all(canonical_time(before_timestamp)).run();
  return s.changes();
}

bool sql_store::add_agent_build(const agent_build_record& b) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO agent_builds (version, arch, sha256, signature, size, created_at, created_by_user_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (version, arch) DO NOTHING");
  s.bind_all(b.version, b.arch, b.sha256, b.signature, b.size, b.created_at, b.created_by_user_id).run();
  return s.changes() > 0;
}

std::optional<agent_build_record> sql_store::find_agent_build(std::string_view version, std::string_view arch) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_build_sql) + "WHERE version = ?1 AND arch = ?2");
  s.bind_all(version, arch);
  if (!s.step()) return std::nullopt;
  return read_build(s);
}

std::vector<agent_build_record> sql_store::list_agent_builds() {
  auto c = db_->acquire();
  statement s(**c, std::string(select_build_sql) + "ORDER BY created_at DESC, version DESC, arch");
  std::vector<agent_build_record> builds;
  while (s.step()) builds.push_back(read_build(s));
  return builds;
}

bool sql_store::delete_agent_build(std::string_view version, std::string_view arch) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM agent_builds WHERE version = ?1 AND arch = ?2");
  s.bind_all(version, arch).run();
  return s.changes() > 0;
}

void sql_store::save_alert_rule(const alert_rule_record& r) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO alert_rules (id, name, enabled, definition, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
              "ON CONFLICT (id) DO UPDATE SET name = ?2, enabled = ?3, definition = ?4, updated_at = ?6");
  s.bind_all(r.id, r.name, std::int64_t{r.enabled ? 1 : 0}, r.definition, r.created_at, r.updated_at).run();
}

std::vector<alert_rule_record> sql_store::list_alert_rules() {
  auto c = db_->acquire();
  statement s(**c, std::string(select_alert_rule_sql) + "ORDER BY name, id");
  std::vector<alert_rule_record> rules;
  while (s.step()) rules.push_back(read_alert_rule(s));
  return rules;
}

std::optional<alert_rule_record> sql_store::find_alert_rule(std::string_view rule_id) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_alert_rule_sql) + "WHERE id = ?1");
  s.bind_all(rule_id);
  if (!s.step()) return std::nullopt;
  return read_alert_rule(s);
}

bool sql_store::delete_alert_rule(std::string_view rule_id) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM alert_rules WHERE id = ?1");
  s.bind_all(rule_id).run();
  return s.changes() > 0;
}

void sql_store::save_alerts(const std::vector<alert_record>& alerts, const std::vector<notification_record>& notifications) {
  if (alerts.empty() && notifications.empty()) return;
  auto c = db_->acquire();
  transaction tx(**c);
  statement s(**c,
              "INSERT INTO alerts (id, rule_id, host_id, container_id, target_name, kind, severity, state, message, "
              "fired_at, resolved_at, acknowledged_at, acknowledged_by, snoozed_until, notified) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
              "ON CONFLICT (id) DO UPDATE SET rule_id = ?2, host_id = ?3, container_id = ?4, target_name = ?5, kind = ?6, "
              "severity = ?7, state = ?8, message = ?9, fired_at = ?10, resolved_at = ?11, acknowledged_at = ?12, "
              "acknowledged_by = ?13, snoozed_until = ?14, notified = ?15");
  for (const auto& a : alerts) {
    s.bind_all(a.id, a.rule_id, a.host_id, a.container_id, a.target_name, a.kind, a.severity, a.state, a.message, a.fired_at,
               a.resolved_at, a.acknowledged_at, a.acknowledged_by, a.snoozed_until, std::int64_t{a.notified ? 1 : 0})
        .run();
    s.reset();
  }
  statement add(**c,
                "INSERT INTO notifications (alert_id, channel_id, message, state, attempts, next_attempt_ms, created_at, group_key) "
                "VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?6)");
  for (const auto& n : notifications) {
    add.bind_all(n.alert_id, n.channel_id, n.message, n.next_attempt_ms, n.created_at, n.group_key).run();
    add.reset();
  }
  tx.commit();
}

std::vector<alert_record> sql_store::list_alerts(const alert_filter& f) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_alert_sql) +
                         "WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR host_id = ?2) ORDER BY fired_at DESC, id LIMIT ?3");
  s.bind_all(f.state, f.host_id, static_cast<std::int64_t>(std::min(f.limit, max_alert_limit)));
  std::vector<alert_record> alerts;
  while (s.step()) alerts.push_back(read_alert(s));
  return alerts;
}

std::optional<alert_record> sql_store::find_alert(std::string_view alert_id) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_alert_sql) + "WHERE id = ?1");
  s.bind_all(alert_id);
  if (!s.step()) return std::nullopt;
  return read_alert(s);
}

void sql_store::save_blackout(const blackout_record& b) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO blackouts (id, name, definition, created_at) VALUES (?1, ?2, ?3, ?4) "
              "ON CONFLICT (id) DO UPDATE SET name = ?2, definition = ?3");
  s.bind_all(b.id, b.name, b.definition, b.created_at).run();
}

std::vector<blackout_record> sql_store::list_blackouts() {
  auto c = db_->acquire();
  statement s(**c, "SELECT id, name, definition, created_at FROM blackouts ORDER BY name, id");
  std::vector<blackout_record> out;
  while (s.step()) out.push_back(blackout_record{s.text(0), s.text(1), s.text(2), s.text(3)});
  return out;
}

bool sql_store::delete_blackout(std::string_view blackout_id) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM blackouts WHERE id = ?1");
  s.bind_all(blackout_id).run();
  return s.changes() > 0;
}

void sql_store::set_tags(std::string_view host_id, std::string_view container_name, const std::vector<std::string>& tags) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement clear(**c, "DELETE FROM tags WHERE host_id = ?1 AND container_name = ?2");
  clear.bind_all(host_id, container_name).run();
  for (const auto& tag : tags) {
    statement add(**c, "INSERT INTO tags (host_id, container_name, tag) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
    add.bind_all(host_id, container_name, tag).run();
  }
  tx.commit();
}

std::vector<tag_record> sql_store::list_tags() {
  auto c = db_->acquire();
  statement s(**c, "SELECT host_id, container_name, tag FROM tags ORDER BY host_id, container_name, tag");
  std::vector<tag_record> out;
  while (s.step()) out.push_back(tag_record{s.text(0), s.text(1), s.text(2)});
  return out;
}

void sql_store::save_health_check(const health_check_record& check) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO health_checks (host_id, container_name, settings, secrets_sealed, updated_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5) "
              "ON CONFLICT (host_id, container_name) DO UPDATE SET settings = ?3, secrets_sealed = ?4, updated_at = ?5");
  s.bind_all(check.host_id, check.container_name, check.settings_json, check.secrets_sealed, check.updated_at).run();
}

std::vector<health_check_record> sql_store::list_health_checks() {
  auto c = db_->acquire();
  statement s(**c,
              "SELECT host_id, container_name, settings, secrets_sealed, updated_at FROM health_checks "
              "ORDER BY host_id, container_name");
  std::vector<health_check_record> out;
  while (s.step()) out.push_back(health_check_record{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return out;
}

bool sql_store::delete_health_check(std::string_view host_id, std::string_view container_name) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM health_checks WHERE host_id = ?1 AND container_name = ?2");
  s.bind_all(host_id, container_name).run();
  return s.changes() > 0;
}

void sql_store::save_channel(const channel_record& channel) {
  auto c = db_->acquire();
  statement s(**c,
              "INSERT INTO notification_channels (id, name, type, sealed_config, enabled, created_at, updated_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
              "ON CONFLICT (id) DO UPDATE SET name = ?2, type = ?3, sealed_config = ?4, enabled = ?5, updated_at = ?7");
  s.bind_all(channel.id, channel.name, channel.type, channel.sealed_config, std::int64_t{channel.enabled ? 1 : 0},
             channel.created_at, channel.updated_at)
      .run();
}

std::vector<channel_record> sql_store::list_channels() {
  auto c = db_->acquire();
  statement s(**c, std::string(select_channel_sql) + "ORDER BY name, id");
  std::vector<channel_record> channels;
  while (s.step()) channels.push_back(read_channel(s));
  return channels;
}

std::optional<channel_record> sql_store::find_channel(std::string_view channel_id) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_channel_sql) + "WHERE id = ?1");
  s.bind_all(channel_id);
  if (!s.step()) return std::nullopt;
  return read_channel(s);
}

bool sql_store::delete_channel(std::string_view channel_id) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement s(**c, "DELETE FROM notification_channels WHERE id = ?1");
  s.bind_all(channel_id).run();
  const bool deleted = s.changes() > 0;
  // Messages already sent or given up stay as the alerts' history; those still to go have nowhere to go.
  statement pending(**c, "DELETE FROM notifications WHERE channel_id = ?1 AND state = 'pending'");
  pending.bind_all(channel_id).run();
  tx.commit();
  return deleted;
}

std::vector<notification_record> sql_store::claim_due_notifications(std::int64_t now_ms, std::size_t limit,
                                                                    std::string_view claimer, std::int64_t claim_until_ms) {
  auto c = db_->acquire();
  // Under the writer's lock: a server claiming at the same time reads after this one's claim commits.
  transaction tx(**c);
  const auto now = to_iso8601(sys_clock::time_point(std::chrono::milliseconds(now_ms)), true);
  statement s(**c, std::string(select_notification_sql) +
                         "WHERE state = 'pending' AND next_attempt_ms <= ?1 AND (claimed_until_ms <= ?1 OR "
                         "(claimed_by <> ?3 AND claimed_by NOT IN (SELECT id FROM replicas WHERE seen_until > ?4))) "
                         "ORDER BY next_attempt_ms, id LIMIT ?2");
  s.bind_all(now_ms, static_cast<std::int64_t>(std::min(limit, max_notification_limit)), claimer, now);
  std::vector<notification_record> due;
  while (s.step()) due.push_back(read_notification(s));
  statement claim(**c, "UPDATE notifications SET claimed_by = ?2, claimed_until_ms = ?3 WHERE id = ?1");
  for (const auto& n : due) {
    claim.bind_all(n.id, claimer, claim_until_ms).run();
    claim.reset();
  }
  tx.commit();
  return due;
}

std::optional<std::int64_t> sql_store::next_notification_due() {
  auto c = db_->acquire();
  statement s(**c, "SELECT MIN(next_attempt_ms) FROM notifications WHERE state = 'pending'");
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.int64(0);
}

void sql_store::record_attempt(const notification_record& n) {
  auto c = db_->acquire();
  statement s(**c,
              "UPDATE notifications SET state = ?2, attempts = ?3, next_attempt_ms = ?4, last_error = ?5, sent_at = ?6, "
              "claimed_by = '', claimed_until_ms = 0 WHERE id = ?1");
  s.bind_all(n.id, n.state, std::int64_t{n.attempts}, n.next_attempt_ms, n.last_error, n.sent_at).run();
}

std::vector<notification_record> sql_store::list_notifications(const notification_filter& f) {
  auto c = db_->acquire();
  statement s(**c, std::string(select_notification_sql) +
                         "WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR alert_id = ?2) ORDER BY id DESC LIMIT ?3");
  s.bind_all(f.state, f.alert_id, static_cast<std::int64_t>(std::min(f.limit, max_notification_limit)));
  std::vector<notification_record> out;
  while (s.step()) out.push_back(read_notification(s));
  return out;
}

// --- replicas ---

namespace {

// The first column of every row, as text.
std::vector<std::string> first_column(statement& s) {
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

}  // namespace

void sql_store::replica_alive(std::string_view replica_id, std::string_view address, sys_clock::time_point until) {
  auto c = db_->acquire();
  statement s(**c, "INSERT INTO replicas (id, address, seen_until) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (id) DO UPDATE SET address = ?2, seen_until = ?3");
  s.bind_all(replica_id, address, to_iso8601(until, true)).run();
}

void sql_store::replica_gone(std::string_view replica_id) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement holds(**c, "DELETE FROM agent_holders WHERE replica_id = ?1");
  holds.bind_all(replica_id).run();
  statement row(**c, "DELETE FROM replicas WHERE id = ?1");
  row.bind_all(replica_id).run();
  tx.commit();
}

void sql_store::hold_host(std::string_view host_id, std::string_view replica_id, sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "INSERT INTO agent_holders (host_id, replica_id, since) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (host_id) DO UPDATE SET replica_id = ?2, since = ?3");
  s.bind_all(host_id, replica_id, to_iso8601(now, true)).run();
}

void sql_store::release_host(std::string_view host_id, std::string_view replica_id) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM agent_holders WHERE host_id = ?1 AND replica_id = ?2");
  s.bind_all(host_id, replica_id).run();
}

std::optional<replica_place> sql_store::host_holder(std::string_view host_id, sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "SELECT r.id, r.address FROM agent_holders h JOIN replicas r ON r.id = h.replica_id "
                   "WHERE h.host_id = ?1 AND r.seen_until > ?2");
  s.bind_all(host_id, to_iso8601(now, true));
  if (!s.step()) return std::nullopt;
  return replica_place{s.text(0), s.text(1)};
}

std::vector<std::string> sql_store::hosts_held(sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "SELECT h.host_id FROM agent_holders h JOIN replicas r ON r.id = h.replica_id WHERE r.seen_until > ?1");
  s.bind_all(to_iso8601(now, true));
  return first_column(s);
}

std::vector<replica_place> sql_store::live_replicas(sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "SELECT id, address FROM replicas WHERE seen_until > ?1 ORDER BY id");
  s.bind_all(to_iso8601(now, true));
  std::vector<replica_place> out;
  while (s.step()) out.push_back({s.text(0), s.text(1)});
  return out;
}

std::vector<std::string> sql_store::hosts_held_by(std::string_view replica_id) {
  auto c = db_->acquire();
  statement s(**c, "SELECT host_id FROM agent_holders WHERE replica_id = ?1");
  s.bind_all(replica_id);
  return first_column(s);
}

// In a write transaction: on PostgreSQL the writers' lock makes the order of the numbers the order of
// the commits, so a reader never passes over a change committed after a later one.
std::int64_t sql_store::note_settings_change(std::string_view what, std::string_view subject, std::string_view by,
                                             sys_clock::time_point now) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement old(**c, "DELETE FROM settings_changes WHERE at < ?1");
  old.bind_all(to_iso8601(now - std::chrono::hours(1), true)).run();
  statement s(**c, "INSERT INTO settings_changes (what, subject, by_replica, at) VALUES (?1, ?2, ?3, ?4) RETURNING seq");
  s.bind_all(what, subject, by, to_iso8601(now, true));
  if (!s.step()) throw store_error("a settings change got no number");
  const auto seq = s.int64(0);
  s.reset();
  tx.commit();
  return seq;
}

std::vector<settings_change> sql_store::settings_changes_after(std::int64_t seq, std::size_t limit) {
  auto c = db_->acquire();
  statement s(**c, "SELECT seq, what, subject, by_replica FROM settings_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  s.bind_all(seq, static_cast<std::int64_t>(limit));
  std::vector<settings_change> out;
  while (s.step()) out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3)});
  return out;
}

std::int64_t sql_store::last_settings_change() {
  auto c = db_->acquire();
  statement s(**c, "SELECT COALESCE(MAX(seq), 0) FROM settings_changes");
  return s.step() ? s.int64(0) : 0;
}

void sql_store::add_download_ticket(std::string_view ticket_hash, std::string_view version, std::string_view arch,
                                    sys_clock::time_point expires, sys_clock::time_point now) {
  auto c = db_->acquire();
  transaction tx(**c);
  statement old(**c, "DELETE FROM download_tickets WHERE expires_at <= ?1");
  old.bind_all(to_iso8601(now, true)).run();
  statement s(**c, "INSERT INTO download_tickets (ticket_hash, version, arch, expires_at) VALUES (?1, ?2, ?3, ?4)");
  s.bind_all(ticket_hash, version, arch, to_iso8601(expires, true)).run();
  tx.commit();
}

// One statement: of two replicas spending one ticket at once, one gets the row.
std::optional<std::pair<std::string, std::string>> sql_store::spend_download_ticket(std::string_view ticket_hash,
                                                                                   sys_clock::time_point now) {
  auto c = db_->acquire();
  statement s(**c, "DELETE FROM download_tickets WHERE ticket_hash = ?1 RETURNING version, arch, expires_at");
  s.bind_all(ticket_hash);
  if (!s.step()) return std::nullopt;
  auto build = std::pair(s.text(0), s.text(1));
  const bool expired = s.text(2) <= to_iso8601(now, true);
  s.reset();
  if (expired) return std::nullopt;
  return build;
}

}  // namespace dockmon::store::sql
