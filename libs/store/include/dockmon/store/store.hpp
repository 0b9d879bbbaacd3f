// The server's persistent state behind one interface; sql/ implements it once over SQLite or PostgreSQL.
// Every call blocks: the server runs them on its database pool, never on an I/O thread.
// Implementations are safe to call from several threads at once.
#pragma once

#include "dockmon/common/time.hpp"

#include <cstdint>
#include <memory>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::store {

// A failure of the database itself (I/O, corruption, constraint that should not happen).
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct user {
  std::string id;
  std::string username;
  std::string password_hash;  // argon2id encoded
  std::string role;           // admin | operator | viewer
  bool disabled = false;      // a disabled user cannot sign in, and its sessions and keys stop working
};

// Who is calling, as resolved from a session cookie or an API key.
struct principal {
  std::string user_id;
  std::string username;
  std::string role;  // for a key: the lower of the key's role and its user's role now
  std::string via;   // "session" or "api_key"
  std::string api_key_id;      // the key's id when via is "api_key"
  std::string key_expires_at;  // the key's expiry (ISO 8601), empty when it does not expire
};

// Roles by rank: viewer < operator < admin; -1 for anything else.
int role_rank(std::string_view role);

// What an agent tells about its host when it registers (DESIGN.md section 4).
struct system_info {
  std::string hostname;
  std::string os_type;
  std::string os_version;
  std::string kernel_version;
  std::string docker_version;
  std::string daemon_started_at;
  std::int64_t total_memory = 0;
  std::int64_t num_cpus = 0;
};

struct agent_record {
  std::string id;
  std::string host_id;
  std::string engine_id;
  std::string version;
  std::string proto_version;
  std::string capabilities;  // JSON object text, as the agent sent it
  std::string status;        // online | offline | degraded
  std::string last_seen_at;  // ISO 8601, empty when never
  std::string registered_at;
  std::string revoked_at;  // ISO 8601, empty unless an admin revoked the agent
  std::string arch;        // agent_arch as the agent registered it ("amd64", ...); empty when it sent none
};

struct host_record {
  std::string id;
  std::string name;
  std::string connection_type;  // "agent"
  system_info info;
  std::string created_at;
  std::string updated_at;
  std::optional<agent_record> agent;
};

// What the agent presented at registration, beyond the token.
struct agent_registration {
  std::string engine_id;
  std::string version;
  std::string proto_version;
  std::string capabilities;  // JSON object text
  std::string arch;          // agent_arch, may be empty
  system_info info;
  // DockMon 1.1: a cloned machine sharing another's engine id asks for a host of its own; DockMon requires
  // the name to come from AGENT_NAME (hostname_source "agent_name") so that the clones can be told apart.
  bool force_unique = false;
  std::string hostname_source;
};

enum class registration_status {
  ok,
  unknown_token,  // no such registration token
  expired_token,
  used_token,
  wrong_engine,      // permanent token presented with another engine_id
  revoked,           // an admin revoked this agent
  engine_taken,      // the engine is another host's: only a re-attach token minted for that host may take it
  needs_agent_name,  // force_unique_registration without a name from AGENT_NAME
  host_gone,         // a re-attach token whose host no longer exists
};

struct registration_outcome {
  registration_status status = registration_status::unknown_token;
  std::string agent_id;
  std::string host_id;
};

// A user as listed (never the password hash).
struct user_record {
  std::string id, username, role, created_at;
  bool disabled = false;
};

// Why a change to a user was or was not made.
enum class user_change { ok, not_found, last_admin };

// An API key as listed (never its secret).
struct api_key_record {
  std::string id, name, user_id, username, role, created_at;
  std::string expires_at;  // empty: never
  bool revoked = false;
};

struct audit_record {
  std::int64_t id = 0;
  std::string at, user_id, username, action, target, result;
};

// An agent removed for being offline longer than the retention, with what the audit entry names.
struct removed_agent {
  std::string agent_id, host_id, host_name, last_seen_at;
};

// One rolled-up stats bucket (the server's stats_history tiers), keyed by series and bucket step.
struct stats_rollup_row {
  std::string key;        // "host:<host_id>" or "ctr:<host_id>:<container_id>"
  std::int64_t step = 0;  // bucket length in seconds
  std::int64_t t = 0;     // bucket start, unix seconds
  double cpu_percent = 0, memory_usage = 0, memory_limit = 0, memory_percent = 0;
  double network_rx = 0, network_tx = 0, disk_read = 0, disk_write = 0;
  double pids = 0;
};

// A Docker event as DockMon keeps it.
struct event_record {
  std::int64_t id = 0;  // assigned by the store; ignored by append_events
  std::string host_id, container_id, container_name, image;
  std::string type;        // "container", ...
  std::string action;      // start, die, ...
  std::string attributes;  // JSON object text
  std::string timestamp;   // ISO 8601 UTC, as to_iso8601 writes it (the filters compare text)
};

struct event_filter {
  std::string host_id, container_id;  // empty = any
  std::string type;                   // "container", "update"; empty = any
  std::string since, until;           // ISO 8601, inclusive; empty = open
  std::size_t limit = 100;            // capped at max_event_limit
};

// An agent build kept for self-updates; the file itself is in the server's data folder.
struct agent_build_record {
  std::string version;
  std::string arch;
  std::string sha256;     // lower-case hex, computed by the server from the bytes it received
  std::string signature;  // base64 Ed25519 signature made with the operator's key (signing.hpp)
  std::int64_t size = 0;
  std::string created_at;
  std::string created_by_user_id;
};

// An alert rule: its definition (kind, severity, scope, noise controls) is JSON the server checks before it
// stores it, so that a rule gains fields without a migration.
struct alert_rule_record {
  std::string id;
  std::string name;
  bool enabled = true;
  std::string definition;  // JSON object text
  std::string created_at, updated_at;
};

// One alert: a rule's condition on one target (a container, or a host when container_id is empty), from
// firing to resolved. The engine makes the id, so an alert is one row however often it is written.
struct alert_record {
  std::string id;
  std::string rule_id;
  std::string host_id, container_id;
  std::string target_name;  // the container's name, or the host's
  std::string kind, severity;
  std::string state;        // "firing" or "resolved"
  std::string message;
  std::string fired_at, resolved_at;              // ISO 8601; resolved_at empty while firing
  std::string acknowledged_at, acknowledged_by;   // empty until someone acknowledges
  std::string snoozed_until;                      // empty when not snoozed
  bool notified = false;                          // whether the firing was worth a notification
};

// A blackout window: its definition (days, start, end, time zone, hosts) is JSON the server checks.
struct blackout_record {
  std::string id;
  std::string name;
  std::string definition;
  std::string created_at;
};

// A tag a user set on a host (container_name empty) or on a container of it, by the container's name.
struct tag_record {
  std::string host_id;
  std::string container_name;
  std::string tag;
};

// A health check users set on a container of a host, by the container's name (it follows the container
// through updates). The settings are JSON the server writes and reads; the headers and credentials a
// check sends are sealed by the server before they reach the store.
struct health_check_record {
  std::string host_id;
  std::string container_name;
  std::string settings_json;
  std::string secrets_sealed;  // empty: none
  std::string updated_at;
};

// A notification channel. The server seals its settings (they hold webhook URLs, tokens, passwords)
// before they reach the store, so a copy of the database alone reveals none of them.
struct channel_record {
  std::string id;
  std::string name;
  std::string type;           // webhook, slack, discord, ... (notify/channel.hpp)
  std::string sealed_config;  // the settings' JSON, sealed with the data folder's key
  bool enabled = true;
  std::string created_at, updated_at;
};

// One message for one channel about one change of an alert: stored with the change, in its transaction,
// then sent. It stays "pending" until the channel took it ("sent") or the server gave up ("failed").
struct notification_record {
  std::int64_t id = 0;  // the store's, in the order they were made
  std::string alert_id, channel_id;
  std::string message;  // JSON: what to say (notify/message.hpp), fixed when it was made
  std::string state = "pending";
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;  // Unix time in milliseconds; due when reached
  std::string last_error;
  std::string created_at, sent_at;
  std::string group_key;  // rows of one channel with the same key that are due together go as one message
};

struct notification_filter {
  std::string state;  // pending, sent, failed; empty = any
  std::string alert_id;
  std::size_t limit = 100;  // capped at max_notification_limit
};

struct alert_filter {
  std::string state;  // "firing", "resolved"; empty = any
  std::string host_id;
  std::size_t limit = 100;  // capped at max_alert_limit
};

// A replica: its id and the address the other replicas reach it at.
struct replica_place {
  std::string replica_id;
  std::string address;
};

// A change one replica made to what every replica keeps in memory, for the others to apply.
struct settings_change {
  std::int64_t seq = 0;  // in the order they were made
  std::string what;      // alert_rule, alert_rule_snooze, blackouts, tags, health_check
  std::string subject;   // the rule's id; "host id/container name" of a health check; empty: all of them
  std::string by;        // the replica's id
};

inline constexpr std::size_t max_event_limit = 1000;
inline constexpr std::size_t max_replay_events = 1'000'000;
inline constexpr std::size_t max_alert_limit = 1000;
inline constexpr std::size_t max_audit_limit = 1000;
inline constexpr std::size_t max_notification_limit = 1000;

class store {
 public:
  virtual ~store() = default;

  // Whether the database answers now (the server's readiness); never throws.
  virtual bool ping() noexcept = 0;

  // users, sessions, API keys
  virtual std::size_t count_users() = 0;
  // Throws store_error when the name is taken.
  virtual user create_user(std::string_view username, std::string_view password_hash, std::string_view role) = 0;
  virtual std::optional<user> find_user_by_name(std::string_view username) = 0;
  virtual std::optional<user> find_user(std::string_view user_id) = 0;
  // Every user, by name.
  virtual std::vector<user_record> list_users() = 0;
  // Changes the role and/or the disabled flag. Refused (last_admin, nothing changed) when no enabled admin
  // would be left. Disabling also deletes the user's sessions.
  virtual user_change update_user(std::string_view user_id, std::optional<std::string> role,
                                  std::optional<bool> disabled) = 0;
  // Deletes the user with its sessions and API keys; the same last-admin rule.
  virtual user_change delete_user(std::string_view user_id) = 0;
  virtual void set_password_hash(std::string_view user_id, std::string_view password_hash) = 0;

  virtual void create_session(std::string_view token_hash, std::string_view user_id, sys_clock::time_point expires_at) = 0;
  // Only a session that has not expired at `now`, of a user who is not disabled.
  virtual std::optional<principal> find_session(std::string_view token_hash, sys_clock::time_point now) = 0;
  virtual void delete_session(std::string_view token_hash) = 0;

  // Deletes every session of the user ("sign out everywhere") but the one whose hash is `except` (may be
  // empty); returns how many.
  virtual std::size_t delete_sessions_of_user(std::string_view user_id, std::string_view except = {}) = 0;
  // Revokes every key of the user; returns how many were live.
  virtual std::size_t revoke_api_keys_of_user(std::string_view user_id) = 0;
  // Returns the new key's id. expires_at: nullopt for a key that does not expire. parent_key_id: the key
  // that made this one (empty when made in a session); revoking a key revokes the keys it made.
  virtual std::string create_api_key(std::string_view name, std::string_view key_hash, std::string_view user_id,
                                     std::string_view role, std::optional<sys_clock::time_point> expires_at,
                                     std::string_view parent_key_id = {}) = 0;
  // principal.role is the lower of the key's and its user's role; revoked and expired keys, and keys of a
  // disabled user, are not found.
  virtual std::optional<principal> find_api_key(std::string_view key_hash) = 0;
  // Every key, or only the user's when user_id is not empty; newest first.
  virtual std::vector<api_key_record> list_api_keys(std::string_view user_id) = 0;
  // Revokes the key and the keys made with it; only a key of owner_user_id unless that is empty (an
  // admin). False when no such key.
  virtual bool revoke_api_key(std::string_view key_id, std::string_view owner_user_id) = 0;

  // registration
  // host_id: empty for a token that enrols a new host; else the host this token may only re-attach.
  virtual void create_registration_token(std::string_view token_hash, std::string_view user_id,
                                         sys_clock::time_point expires_at, std::string_view host_id = {}) = 0;

  // Spends a registration token and creates the agent and its host, in one transaction. A token never
  // attaches to an existing host unless it was minted for that host (re-attach: the host keeps its ids,
  // takes the presented engine id and the new permanent token, and its revocation is lifted). An engine
  // id another host has is refused (engine_taken; revoked when that agent was revoked), unless the agent
  // asked for force_unique registration, which makes a new host. Nothing changes unless the outcome is
  // ok; a token that is unknown, spent or expired is refused without taking the write lock.
  virtual registration_outcome register_with_token(std::string_view registration_token_hash,
                                                   std::string_view permanent_token_hash,
                                                   const agent_registration& reg, sys_clock::time_point now) = 0;

  // Reconnect with a permanent token: refuses a token bound to another engine_id or a revoked agent; on
  // success refreshes the agent's version, capabilities and the host's system info, in one transaction.
  // Rotation: next_token_hash becomes the agent's next token. The presented token stays valid until the
  // agent presents the next one (so a crash before it stored the next one never locks it out); presenting
  // the next token retires the one before it. An unknown token is refused without taking the write lock.
  virtual registration_outcome reconnect_with_permanent_token(std::string_view permanent_token_hash,
                                                              std::string_view next_token_hash,
                                                              const agent_registration& reg,
                                                              sys_clock::time_point now) = 0;
  // Revokes the host's agent: its tokens stop working at once. False when the host has no agent.
  // Only a re-attach token an admin mints for the host brings it back.
  virtual bool revoke_agent(std::string_view host_id, sys_clock::time_point now) = 0;
  // Removes agents (and their hosts) offline since before `cutoff`; returns what was removed.
  virtual std::vector<removed_agent> remove_agents_offline_since(sys_clock::time_point cutoff) = 0;

  virtual void set_agent_status(std::string_view agent_id, std::string_view status, sys_clock::time_point last_seen) = 0;
  // Marks every agent offline (server start: no agent is connected yet) but those a live replica holds
  // at `now` (another server on the same database serves them).
  virtual void mark_all_agents_offline(sys_clock::time_point now) = 0;

  virtual std::vector<host_record> list_hosts() = 0;
  virtual std::optional<host_record> find_host(std::string_view host_id) = 0;

  // Several servers on one database (replicas). Each says, again and again, that it is alive until a
  // time and at which address the others reach it; it holds the hosts whose agents it serves. A replica
  // not seen alive holds nothing: its hosts are free for whichever replica their agents reach next.
  virtual void replica_alive(std::string_view replica_id, std::string_view address, sys_clock::time_point until) = 0;
  // A replica that stops cleanly: its row and its holds go.
  virtual void replica_gone(std::string_view replica_id) = 0;
  // The replica now holds the host (taking it from any other).
  virtual void hold_host(std::string_view host_id, std::string_view replica_id, sys_clock::time_point now) = 0;
  // Lets go of the host, when this replica still holds it (another may have taken it since).
  virtual void release_host(std::string_view host_id, std::string_view replica_id) = 0;
  // The live replica holding the host at `now`, if any.
  virtual std::optional<replica_place> host_holder(std::string_view host_id, sys_clock::time_point now) = 0;
  // Every host held by a live replica at `now`.
  virtual std::vector<std::string> hosts_held(sys_clock::time_point now) = 0;
  // The replicas alive at `now`, by id.
  virtual std::vector<replica_place> live_replicas(sys_clock::time_point now) = 0;
  // The hosts this replica holds by the database's record (another may have taken some of its agents).
  virtual std::vector<std::string> hosts_held_by(std::string_view replica_id) = 0;
  // A replica changed rules, blackouts, tags or a health check (stored already): its place in the order.
  // Changes older than an hour are dropped meanwhile.
  virtual std::int64_t note_settings_change(std::string_view what, std::string_view subject, std::string_view by,
                                            sys_clock::time_point now) = 0;
  // The changes after `seq`, oldest first, at most `limit`.
  virtual std::vector<settings_change> settings_changes_after(std::int64_t seq, std::size_t limit) = 0;
  // The latest change's place (0 when none): where a replica that starts now begins to read.
  virtual std::int64_t last_settings_change() = 0;

  // Single-use download tickets for agent builds, by the ticket's hash, so that any replica redeems one
  // another made. Adding one drops the expired.
  virtual void add_download_ticket(std::string_view ticket_hash, std::string_view version, std::string_view arch,
                                   sys_clock::time_point expires, sys_clock::time_point now) = 0;
  // Spends the ticket: its build (version, arch), or nullopt when it is unknown, spent or expired at `now`.
  virtual std::optional<std::pair<std::string, std::string>> spend_download_ticket(std::string_view ticket_hash,
                                                                                  sys_clock::time_point now) = 0;

  // audit log of user operations
  virtual void append_audit(std::string_view user_id, std::string_view action, std::string_view target,
                            std::string_view result, sys_clock::time_point at) = 0;
  // Newest first; at most min(limit, max_audit_limit) entries, with at >= since when since is not empty.
  virtual std::vector<audit_record> list_audit(std::string_view since, std::size_t limit) = 0;

  // stats history rollups
  // One transaction; a row with the same (key, step, t) replaces the stored one.
  virtual void save_rollups(const std::vector<stats_rollup_row>& rows) = 0;
  // Rows with t >= since_t, ordered by key, step, t.
  virtual std::vector<stats_rollup_row> load_rollups(std::int64_t since_t) = 0;
  // The same rows one series (key) at a time, so that a week of a fleet's history is never in memory at
  // once: fn(key, rows of that key ordered by step, t).
  virtual void for_each_rollup_series(std::int64_t since_t,
                                      const std::function<void(const std::string&, const std::vector<stats_rollup_row>&)>& fn) = 0;
  // Deletes the rows of that step with t < before_t; returns how many.
  virtual std::size_t prune_rollups(std::int64_t step, std::int64_t before_t) = 0;

  // Docker events
  // One transaction.
  virtual void append_events(const std::vector<event_record>& events) = 0;
  // Newest first (by timestamp, then by id); at most min(limit, max_event_limit) rows.
  virtual std::vector<event_record> list_events(const event_filter& f) = 0;
  // Events since `since` (inclusive), oldest first, at most min(limit, max_replay_events): what a rule's
  // preview replays.
  virtual std::vector<event_record> events_since(std::string_view since, std::size_t limit) = 0;
  // Deletes events with timestamp < before_timestamp; returns how many.
  virtual std::size_t prune_events(std::string_view before_timestamp) = 0;

  // alert rules and alerts
  virtual void save_alert_rule(const alert_rule_record& rule) = 0;  // insert or replace by id
  virtual std::vector<alert_rule_record> list_alert_rules() = 0;    // by name
  virtual std::optional<alert_rule_record> find_alert_rule(std::string_view rule_id) = 0;
  // Deletes the rule; its alerts stay, as history. False when there was no such rule.
  virtual bool delete_alert_rule(std::string_view rule_id) = 0;
  // Inserts or replaces each alert by id and adds the notifications of those changes, in one transaction
  // (the engine writes what changed since the last write, in order), so no change is stored without its
  // messages or the other way round.
  virtual void save_alerts(const std::vector<alert_record>& alerts, const std::vector<notification_record>& notifications) = 0;
  // Newest first (by fired_at); at most min(limit, max_alert_limit).
  virtual std::vector<alert_record> list_alerts(const alert_filter& f) = 0;
  virtual std::optional<alert_record> find_alert(std::string_view alert_id) = 0;

  // blackout windows
  virtual void save_blackout(const blackout_record& b) = 0;  // insert or replace by id
  virtual std::vector<blackout_record> list_blackouts() = 0;  // by name
  virtual bool delete_blackout(std::string_view blackout_id) = 0;

  // tags
  // Replaces the tags of a host (container_name empty) or of a container of it, in one transaction.
  virtual void set_tags(std::string_view host_id, std::string_view container_name, const std::vector<std::string>& tags) = 0;
  virtual std::vector<tag_record> list_tags() = 0;  // by host, container name, tag

  // health checks
  virtual void save_health_check(const health_check_record& check) = 0;  // insert or replace by host and name
  virtual std::vector<health_check_record> list_health_checks() = 0;    // by host, container name
  virtual bool delete_health_check(std::string_view host_id, std::string_view container_name) = 0;

  // notification channels and the outbox
  virtual void save_channel(const channel_record& channel) = 0;  // insert or replace by id
  virtual std::vector<channel_record> list_channels() = 0;      // by name
  virtual std::optional<channel_record> find_channel(std::string_view channel_id) = 0;
  // Deletes the channel and its pending notifications. False when there was no such channel.
  virtual bool delete_channel(std::string_view channel_id) = 0;
  // Pending notifications due at now_ms, oldest first, at most limit, claimed by `claimer` (a server's
  // id for this run): no other server gets them before claim_until_ms unless their attempt is recorded
  // first, so that servers sharing the database never send one twice. A claim by a server that is not
  // a live replica (one killed, or the previous run of a single server) holds nothing.
  virtual std::vector<notification_record> claim_due_notifications(std::int64_t now_ms, std::size_t limit,
                                                                   std::string_view claimer,
                                                                   std::int64_t claim_until_ms) = 0;
  // When the next pending notification is due; nullopt when none is pending.
  virtual std::optional<std::int64_t> next_notification_due() = 0;
  // Stores an attempt's outcome: state, attempts, next_attempt_ms, last_error and sent_at, by id.
  virtual void record_attempt(const notification_record& n) = 0;
  // Newest first; at most min(limit, max_notification_limit).
  virtual std::vector<notification_record> list_notifications(const notification_filter& f) = 0;

  // agent builds for self-updates
  // False (and nothing changed) when a build of that version and architecture exists.
  virtual bool add_agent_build(const agent_build_record& build) = 0;
  virtual std::optional<agent_build_record> find_agent_build(std::string_view version, std::string_view arch) = 0;
  // Newest first.
  virtual std::vector<agent_build_record> list_agent_builds() = 0;
  // False when there was no such build.
  virtual bool delete_agent_build(std::string_view version, std::string_view arch) = 0;
};

struct store_options {
  std::size_t pool_size = 8;  // PostgreSQL connections at most (SQLite has one)
};

// "sqlite:///abs/path/dockmon.db", "sqlite://relative/path.db", or "postgresql://user@host:port/db" (also
// "postgres://", read by libpq: sslmode, passfile and the PG* variables are honoured). Creates what is
// missing and runs the migrations. Throws store_error with a message that says what to fix (bad URL,
// unwritable folder, unreachable server, newer schema).
std::unique_ptr<store> open_store(std::string_view url, const store_options& options = {});

// How far copy_store is: rows of `table` copied so far, and whether it is done.
struct copy_progress {
  std::string table;
  std::size_t rows = 0;
  bool table_done = false;
};

// Copies every row of the database at from_url into the one at to_url, which must hold no data yet (both are
// migrated to this build's schema first), in one transaction on the target: what `dockmon-server
// migrate-store` does, from SQLite to PostgreSQL or back. Throws store_error with what to fix.
void copy_store(std::string_view from_url, std::string_view to_url,
                const std::function<void(const copy_progress&)>& progress);

// The URL with any password in it replaced by "***", for messages and logs.
std::string redact_database_url(std::string_view url);

}  // namespace dockmon::store
