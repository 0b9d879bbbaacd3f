// The store over any database of sql/database.hpp: SQLite's one connection or a PostgreSQL pool.
#pragma once

#include "dockmon/store/store.hpp"
#include "sql/database.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::store::sql {

class sql_store final : public store {
 public:
  // db is migrated already.
  explicit sql_store(std::unique_ptr<database> db);

  bool ping() noexcept override;

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
  void mark_all_agents_offline(sys_clock::time_point now) override;

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
  std::vector<notification_record> claim_due_notifications(std::int64_t now_ms, std::size_t limit,
                                                           std::string_view claimer, std::int64_t claim_until_ms) override;
  std::optional<std::int64_t> next_notification_due() override;
  void record_attempt(const notification_record& n) override;
  std::vector<notification_record> list_notifications(const notification_filter& f) override;
  void replica_alive(std::string_view replica_id, std::string_view address, sys_clock::time_point until) override;
  void replica_gone(std::string_view replica_id) override;
  void hold_host(std::string_view host_id, std::string_view replica_id, sys_clock::time_point now) override;
  void release_host(std::string_view host_id, std::string_view replica_id) override;
  std::optional<replica_place> host_holder(std::string_view host_id, sys_clock::time_point now) override;
  std::vector<std::string> hosts_held(sys_clock::time_point now) override;
  std::vector<std::string> hosts_held_by(std::string_view replica_id) override;
  std::int64_t note_settings_change(std::string_view what, std::string_view subject, std::string_view by,
                                    sys_clock::time_point now) override;
  std::vector<settings_change> settings_changes_after(std::int64_t seq, std::size_t limit) override;
  std::int64_t last_settings_change() override;
  void add_download_ticket(std::string_view ticket_hash, std::string_view version, std::string_view arch,
                           sys_clock::time_point expires, sys_clock::time_point now) override;
  std::optional<std::pair<std::string, std::string>> spend_download_ticket(std::string_view ticket_hash,
                                                                          sys_clock::time_point now) override;
  std::vector<replica_place> live_replicas(sys_clock::time_point now) override;

 private:
  // True when no enabled admin but user_id would be left. Caller holds a write transaction.
  bool would_leave_no_admin(connection& conn, std::string_view user_id);
  // Whether the registration token may be spent now; host_id gets the host it re-attaches (may be empty).
  registration_status check_registration_token(connection& conn, std::string_view token_hash, const std::string& now,
                                               std::string& host_id);
  // The live agent a permanent token (current or next) belongs to, bound to the engine the agent presents.
  registration_status find_agent_by_token(connection& conn, std::string_view token_hash, const agent_registration& reg,
                                          registration_outcome& out);
  // Refreshes an existing agent and its host from what the agent presented; caller holds a transaction.
  // token_hash and next_token_hash are the agent's tokens from now on (next may be empty).
  void refresh_agent(connection& conn, std::string_view agent_id, std::string_view host_id, std::string_view token_hash,
                     std::string_view next_token_hash, const agent_registration& reg, const std::string& now);

  std::unique_ptr<database> db_;
};

}  // namespace dockmon::store::sql
