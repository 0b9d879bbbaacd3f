// The SQLite implementation of dockmon::store, with the thin RAII wrappers over the C API it needs.
// One connection, guarded by a mutex: the server's load is a few writes a second, WAL keeps reads cheap.
#pragma once

#include "dockmon/store/store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::store::sqlite {

// Owns a sqlite3 connection.
class connection {
 public:
  explicit connection(const std::filesystem::path& file);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  sqlite3* get() const { return db_; }
  // Runs fixed SQL without parameters (pragmas, migrations, BEGIN/COMMIT); never pass it outside input.
  void exec(const char* sql);
  [[noreturn]] void fail(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
};

// Owns a prepared statement; values go in only through bind, never into the SQL text.
class statement {
 public:
  statement(connection& conn, std::string_view sql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int index, std::string_view text);
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, double value);
  statement& bind_null(int index);

  // Binds its arguments to ?1, ?2, ... in order.
  template <typename... Args>
  statement& bind_all(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
    return *this;
  }

  // true when a row is ready, false when done; throws store_error on failure.
  bool step();
  // Steps to completion, for statements that return no rows.
  void run();
  // Makes the statement ready to run again (new bindings replace the old), for one statement per batch.
  void reset();

  std::string text(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  // The extended result code of the last failed step, 0 when none.
  int last_error() const { return last_error_; }

 private:
  void bind_one(int index, std::string_view v) { bind(index, v); }
  void bind_one(int index, const std::string& v) { bind(index, std::string_view(v)); }
  void bind_one(int index, const char* v) { bind(index, std::string_view(v)); }
  void bind_one(int index, std::int64_t v) { bind(index, v); }
  void bind_one(int index, double v) { bind(index, v); }
  void bind_one(int index, std::nullopt_t) { bind_null(index); }

  connection& conn_;
  sqlite3_stmt* stmt_ = nullptr;
  int last_error_ = 0;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class transaction {
 public:
  explicit transaction(connection& conn);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit();

 private:
  connection& conn_;
  bool done_ = false;
};

// The schema version this build migrates to.
inline constexpr int latest_schema_version = 12;

class sqlite_store final : public store {
 public:
  explicit sqlite_store(const std::filesystem::path& file);

  std::size_t count_users() override;
  user create_user(std::string_view username, std::string_view password_hash, std::string_view role) override;
  std::optional<user> find_user_by_name(std::string_view username) override;
  std::optional<user> find_user(std::string_view user_id) override;
  std::vector<user_record> list_users() override;
  user_change update_user(std::string_view user_id, std::optional<std::string> role,
                          std::optional<bool> disabled) override;
  user_change delete_user(std::string_view user_id) override;
  void set_password_hash(std::string_view user_id, std::string_view password_hash) override;

  void create_session(std::string_view token_hash, std::string_view user_id, sys_clock::time_point expires_at) override;
  std::optional<principal> find_session(std::string_view token_hash, sys_clock::time_point now) override;
  void delete_session(std::string_view token_hash) override;

  std::size_t delete_sessions_of_user(std::string_view user_id, std::string_view except = {}) override;
  std::size_t revoke_api_keys_of_user(std::string_view user_id) override;
  std::string create_api_key(std::string_view name, std::string_view key_hash, std::string_view user_id,
                             std::string_view role, std::optional<sys_clock::time_point> expires_at,
                             std::string_view parent_key_id = {}) override;
  std::optional<principal> find_api_key(std::string_view key_hash) override;
  std::vector<api_key_record> list_api_keys(std::string_view user_id) override;
  bool revoke_api_key(std::string_view key_id, std::string_view owner_user_id) override;

  void create_registration_token(std::string_view token_hash, std::string_view user_id,
                                 sys_clock::time_point expires_at, std::string_view host_id = {}) override;
  registration_outcome register_with_token(std::string_view registration_token_hash,
                                           std::string_view permanent_token_hash, const agent_registration& reg,
                                           sys_clock::time_point now) override;
  registration_outcome reconnect_with_permanent_token(std::string_view permanent_token_hash,
                                                      std::string_view next_token_hash, const agent_registration& reg,
                                                      sys_clock::time_point now) override;
  bool revoke_agent(std::string_view host_id, sys_clock::time_point now) override;
  std::vector<removed_agent> remove_agents_offline_since(sys_clock::time_point cutoff) override;

  void set_agent_status(std::string_view agent_id, std::string_view status, sys_clock::time_point last_seen) override;
  void mark_all_agents_offline() override;

  std::vector<host_record> list_hosts() override;
  std::optional<host_record> find_host(std::string_view host_id) override;

  void append_audit(std::string_view user_id, std::string_view action, std::string_view target,
                    std::string_view result, sys_clock::time_point at) override;
  std::vector<audit_record> list_audit(std::string_view since, std::size_t limit) override;

  void save_rollups(const std::vector<stats_rollup_row>& rows) override;
  std::vector<stats_rollup_row> load_rollups(std::int64_t since_t) override;
  void for_each_rollup_series(std::int64_t since_t,
                              const std::function<void(const std::string&, const std::vector<stats_rollup_row>&)>& fn) override;
  std::size_t prune_rollups(std::int64_t step, std::int64_t before_t) override;

  void append_events(const std::vector<event_record>& events) override;
  std::vector<event_record> list_events(const event_filter& f) override;
  std::vector<event_record> events_since(std::string_view since, std::size_t limit) override;
  std::size_t prune_events(std::string_view before_timestamp) override;

  bool add_agent_build(const agent_build_record& build) override;
  std::optional<agent_build_record> find_agent_build(std::string_view version, std::string_view arch) override;
  std::vector<agent_build_record> list_agent_builds() override;
  bool delete_agent_build(std::string_view version, std::string_view arch) override;
  void save_alert_rule(const alert_rule_record& rule) override;
  std::vector<alert_rule_record> list_alert_rules() override;
  std::optional<alert_rule_record> find_alert_rule(std::string_view rule_id) override;
  bool delete_alert_rule(std::string_view rule_id) override;
  void save_alerts(const std::vector<alert_record>& alerts, const std::vector<notification_record>& notifications) override;
  std::vector<alert_record> list_alerts(const alert_filter& f) override;
  std::optional<alert_record> find_alert(std::string_view alert_id) override;
  void save_blackout(const blackout_record& b) override;
  std::vector<blackout_record> list_blackouts() override;
  bool delete_blackout(std::string_view blackout_id) override;
  void set_tags(std::string_view host_id, std::string_view container_name, const std::vector<std::string>& tags) override;
  std::vector<tag_record> list_tags() override;
  void save_health_check(const health_check_record& check) override;
  std::vector<health_check_record> list_health_checks() override;
  bool delete_health_check(std::string_view host_id, std::string_view container_name) override;
  void save_channel(const channel_record& channel) override;
  std::vector<channel_record> list_channels() override;
  std::optional<channel_record> find_channel(std::string_view channel_id) override;
  bool delete_channel(std::string_view channel_id) override;
  std::vector<notification_record> due_notifications(std::int64_t now_ms, std::size_t limit) override;
  std::optional<std::int64_t> next_notification_due() override;
  void record_attempt(const notification_record& n) override;
  std::vector<notification_record> list_notifications(const notification_filter& f) override;

 private:
  void migrate();
  // True when no enabled admin but user_id would be left. Caller holds the lock.
  bool would_leave_no_admin(std::string_view user_id);
  // Whether the registration token may be spent now; host_id gets the host it re-attaches (may be empty).
  registration_status check_registration_token(std::string_view token_hash, const std::string& now,
                                               std::string& host_id);
  // Refreshes an existing agent and its host from what the agent presented; caller holds a transaction.
  // token_hash and next_token_hash are the agent's tokens from now on (next may be empty).
  void refresh_agent(std::string_view agent_id, std::string_view host_id, std::string_view token_hash,
                     std::string_view next_token_hash, const agent_registration& reg, const std::string& now);

  std::mutex mutex_;
  connection conn_;
};

}  // namespace dockmon::store::sqlite
