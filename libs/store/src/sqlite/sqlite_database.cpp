// SQLite under the store: one connection in WAL mode, lent to one call at a time, and the schema's
// migrations in SQLite's dialect (postgres/ has the same ones in its own).
#include "sqlite/sqlite_database.hpp"

#include "sql/migrations.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace dockmon::store::sqlite {

namespace {

// SQLITE_TRANSIENT without the old-style cast in its macro: SQLite copies the bound text at once, so a
// temporary (say, a formatted time) may die before the statement steps.
const sqlite3_destructor_type copy_bound_text = reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));

using sql::migration;

// Append-only: a released migration is never edited, a change is a new entry.
constexpr migration migrations[] = {
    {1, R"sql(
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  key_hash   TEXT NOT NULL UNIQUE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE TABLE registration_tokens (
  token_hash         TEXT PRIMARY KEY,
  created_by_user_id TEXT NOT NULL,
  created_at         TEXT NOT NULL,
  expires_at         TEXT NOT NULL,
  used               INTEGER NOT NULL DEFAULT 0,
  used_at            TEXT NULL
);
CREATE TABLE docker_hosts (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  connection_type   TEXT NOT NULL,
  os_type           TEXT NOT NULL DEFAULT '',
  os_version        TEXT NOT NULL DEFAULT '',
  kernel_version    TEXT NOT NULL DEFAULT '',
  docker_version    TEXT NOT NULL DEFAULT '',
  daemon_started_at TEXT NOT NULL DEFAULT '',
  total_memory      INTEGER NOT NULL DEFAULT 0,
  num_cpus          INTEGER NOT NULL DEFAULT 0,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE TABLE agents (
  id            TEXT PRIMARY KEY,
  host_id       TEXT NOT NULL UNIQUE REFERENCES docker_hosts(id) ON DELETE CASCADE,
  engine_id     TEXT NOT NULL UNIQUE,
  version       TEXT NOT NULL DEFAULT '',
  proto_version TEXT NOT NULL DEFAULT '',
  capabilities  TEXT NOT NULL DEFAULT '{}',
  status        TEXT NOT NULL DEFAULT 'offline',
  last_seen_at  TEXT NULL,
  registered_at TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE
);
CREATE TABLE events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id        TEXT NOT NULL,
  container_id   TEXT NOT NULL DEFAULT '',
  container_name TEXT NOT NULL DEFAULT '',
  type           TEXT NOT NULL,
  action         TEXT NOT NULL,
  message        TEXT NOT NULL DEFAULT '',
  timestamp      TEXT NOT NULL
);
CREATE INDEX events_host_time ON events(host_id, timestamp);
CREATE INDEX events_time ON events(timestamp);
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      TEXT NOT NULL,
  user_id TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  result  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
)sql"},
    // Stats history rollups; events gain what a Docker event carries beyond migration 1's columns (the
    // image, and its attributes as JSON). migration 1's message column stays, unused.
    {2, R"sql(
CREATE TABLE stats_rollups (
  key            TEXT NOT NULL,
  step           INTEGER NOT NULL,
  t              INTEGER NOT NULL,
  cpu_percent    REAL NOT NULL DEFAULT 0,
  memory_usage   REAL NOT NULL DEFAULT 0,
  memory_limit   REAL NOT NULL DEFAULT 0,
  memory_percent REAL NOT NULL DEFAULT 0,
  network_rx     REAL NOT NULL DEFAULT 0,
  network_tx     REAL NOT NULL DEFAULT 0,
  disk_read      REAL NOT NULL DEFAULT 0,
  disk_write     REAL NOT NULL DEFAULT 0,
  pids           REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (key, step, t)
) WITHOUT ROWID;
CREATE INDEX stats_rollups_step_t ON stats_rollups(step, t);
ALTER TABLE events ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX events_container_time ON events(container_id, timestamp);
)sql"},
    // Token rotation (the next token, valid beside the current one until the agent uses it), agent
    // revocation, and the audit log's lookups by time.
    {3, R"sql(
ALTER TABLE agents ADD COLUMN next_token_hash TEXT NULL;
ALTER TABLE agents ADD COLUMN revoked_at TEXT NULL;
CREATE UNIQUE INDEX agents_next_token ON agents(next_token_hash);
)sql"},
    // Agent self-update: the builds the operator uploaded (signed), and each agent's architecture, which
    // picks the build it gets.
    {4, R"sql(
CREATE TABLE agent_builds (
  version            TEXT NOT NULL,
  arch               TEXT NOT NULL,
  sha256             TEXT NOT NULL,
  signature          TEXT NOT NULL,
  size               INTEGER NOT NULL,
  created_at         TEXT NOT NULL,
  created_by_user_id TEXT NOT NULL,
  PRIMARY KEY (version, arch)
);
ALTER TABLE agents ADD COLUMN arch TEXT NOT NULL DEFAULT '';
)sql"},
    // Registration that cannot take over a host: a registration token may name the one host it re-attaches
    // (minted by an admin for an agent that lost its data), and agents that registered with DockMon's
    // force_unique_registration (cloned machines sharing an engine id) are exempt from the engine id's
    // uniqueness. SQLite cannot drop a column's UNIQUE, so agents is rebuilt with a partial index instead.
    {5, R"sql(
ALTER TABLE registration_tokens ADD COLUMN host_id TEXT NULL;
CREATE TABLE agents_v5 (
  id              TEXT PRIMARY KEY,
  host_id         TEXT NOT NULL UNIQUE REFERENCES docker_hosts(id) ON DELETE CASCADE,
  engine_id       TEXT NOT NULL,
  version         TEXT NOT NULL DEFAULT '',
  proto_version   TEXT NOT NULL DEFAULT '',
  capabilities    TEXT NOT NULL DEFAULT '{}',
  status          TEXT NOT NULL DEFAULT 'offline',
  last_seen_at    TEXT NULL,
  registered_at   TEXT NOT NULL,
  token_hash      TEXT NOT NULL UNIQUE,
  next_token_hash TEXT NULL,
  revoked_at      TEXT NULL,
  arch            TEXT NOT NULL DEFAULT '',
  force_unique    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO agents_v5 (id, host_id, engine_id, version, proto_version, capabilities, status, last_seen_at,
                       registered_at, token_hash, next_token_hash, revoked_at, arch)
  SELECT id, host_id, engine_id, version, proto_version, capabilities, status, last_seen_at, registered_at,
         token_hash, next_token_hash, revoked_at, arch FROM agents;
DROP TABLE agents;
ALTER TABLE agents_v5 RENAME TO agents;
CREATE UNIQUE INDEX agents_next_token ON agents(next_token_hash);
CREATE UNIQUE INDEX agents_engine_strict ON agents(engine_id) WHERE force_unique = 0;
CREATE INDEX agents_engine ON agents(engine_id);
)sql"},
    // Containing a compromised account: users can be disabled, and a key records the key that made it so
    // that revoking one revokes what it made.
    {6, R"sql(
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN parent_key_id TEXT NULL;
CREATE INDEX api_keys_parent ON api_keys(parent_key_id);
)sql"},
    // Alerting: rules (their definition is JSON the server validates) and alerts, one row per alert from
    // firing to resolved.
    {7, R"sql(
CREATE TABLE alert_rules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  definition TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  host_id TEXT NOT NULL,
  container_id TEXT NOT NULL DEFAULT '',
  target_name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  fired_at TEXT NOT NULL,
  resolved_at TEXT NOT NULL DEFAULT '',
  acknowledged_at TEXT NOT NULL DEFAULT '',
  acknowledged_by TEXT NOT NULL DEFAULT '',
  snoozed_until TEXT NOT NULL DEFAULT '',
  notified INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_state_fired ON alerts(state, fired_at);
CREATE INDEX alerts_host ON alerts(host_id, fired_at);
)sql"},
    // Notifications: channels (settings sealed by the server) and the outbox, one row per message, written
    // with the alert change that made it and kept after it was sent, as the alert's delivery record.
    {8, R"sql(
CREATE TABLE notification_channels (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  sealed_config TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  message TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  sent_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications(state, next_attempt_ms);
CREATE INDEX notifications_alert ON notifications(alert_id);
)sql"},
    // Blackout windows: when alerts tell no one.
    {9, R"sql(
CREATE TABLE blackouts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  created_at TEXT NOT NULL
);
)sql"},
    // A burst of messages about one host (a dockerd restart) goes to a channel as one.
    {10, R"sql(
ALTER TABLE notifications ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
)sql"},
    // Tags users set on hosts (container_name empty) and on containers, by name so that they follow a
    // container through updates and re-creation; a removed host takes its tags with it.
    {11, R"sql(
CREATE TABLE tags (
  host_id TEXT NOT NULL REFERENCES docker_hosts(id) ON DELETE CASCADE,
  container_name TEXT NOT NULL DEFAULT '',
  tag TEXT NOT NULL,
  PRIMARY KEY (host_id, container_name, tag)
);
)sql"},
    // Health checks users set on containers, by name (they follow a container through updates); a
    // removed host takes its checks with it. Headers and credentials are sealed by the server.
    {12, R"sql(
CREATE TABLE health_checks (
  host_id TEXT NOT NULL REFERENCES docker_hosts(id) ON DELETE CASCADE,
  container_name TEXT NOT NULL,
  settings TEXT NOT NULL,
  secrets_sealed TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (host_id, container_name)
);
)sql"},
    // Several servers on one database: which are alive (until seen_until, ISO 8601 with milliseconds) and
    // where, which holds each host's agent, and which is sending a notification until when. Live state:
    // migrate-store leaves it behind.
    {13, R"sql(
CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  seen_until TEXT NOT NULL
);
CREATE TABLE agent_holders (
  host_id TEXT PRIMARY KEY REFERENCES docker_hosts(id) ON DELETE CASCADE,
  replica_id TEXT NOT NULL,
  since TEXT NOT NULL
);
CREATE INDEX agent_holders_by_replica ON agent_holders(replica_id);
ALTER TABLE notifications ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN claimed_until_ms INTEGER NOT NULL DEFAULT 0;
)sql"},
    // What one replica changed of what every replica keeps in memory (alert rules, blackouts, tags,
    // health checks), in order, for the others to apply, kept for an hour; and the agent-build download
    // tickets, so that any replica redeems one another made. Live state.
    {14, R"sql(
CREATE TABLE settings_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  what TEXT NOT NULL,
  subject TEXT NOT NULL,
  by_replica TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE download_tickets (
  ticket_hash TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  arch TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
)sql"},
};

static_assert(std::size(migrations) == sql::latest_schema_version, "every schema version needs its migration");

// Creates the file readable by its owner only before SQLite opens it: it holds password and token hashes.
// SQLite gives the -wal and -shm files the same mode as the database.
void create_private_file(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw store_error("cannot create database file " + file.string() + ": " + std::strerror(errno) +
                      "; check that the folder exists and is writable");
  }
  ::close(fd);
  // An existing file may have been created with a wider mode by an older build or by hand.
  if (::chmod(file.c_str(), 0600) != 0) {
    throw store_error("cannot set mode 0600 on " + file.string() + ": " + std::strerror(errno));
  }
}

class sqlite_connection;

class sqlite_statement final : public sql::statement_impl {
 public:
  sqlite_statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
      fail("preparing a statement");
    }
  }
  ~sqlite_statement() override { sqlite3_finalize(stmt_); }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  void bind(int index, std::string_view text) override {
    // A null pointer would bind SQL NULL; an empty string must stay an empty string.
    const char* data = text.data() != nullptr ? text.data() : "";
    if (sqlite3_bind_text64(stmt_, index, data, text.size(), copy_bound_text, SQLITE_UTF8) != SQLITE_OK) {
      fail("binding a value");
    }
  }
  void bind(int index, std::int64_t value) override {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail("binding a value");
  }
  void bind(int index, double value) override {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) fail("binding a value");
  }
  void bind_null(int index) override {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail("binding a value");
  }
  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      changes_ = static_cast<std::size_t>(sqlite3_changes(db_));
      return false;
    }
    last_error_ = rc;
    fail("running a statement");
  }
  void reset() override { sqlite3_reset(stmt_); }
  std::string text(int column) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const override { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::size_t changes() const override { return changes_; }
  bool unique_violation() const override {
    return last_error_ == SQLITE_CONSTRAINT_UNIQUE || last_error_ == SQLITE_CONSTRAINT_PRIMARYKEY;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw store_error("database error while " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int last_error_ = 0;
  std::size_t changes_ = 0;
};

class sqlite_connection final : public sql::connection {
 public:
  explicit sqlite_connection(const std::filesystem::path& file) {
    create_private_file(file);
    int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw store_error("cannot open database " + file.string() + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
  }
  ~sqlite_connection() override { sqlite3_close(db_); }
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  std::unique_ptr<sql::statement_impl> prepare(std::string_view sql) override {
    return std::make_unique<sqlite_statement>(db_, sql);
  }
  void exec(const char* sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw store_error("database error: " + msg);
    }
  }
  void begin_write() override { exec("BEGIN IMMEDIATE"); }

 private:
  sqlite3* db_ = nullptr;
};

// The one connection, held with its mutex for the length of a store call.
class sqlite_lease final : public sql::lease {
 public:
  sqlite_lease(std::mutex& mutex, sqlite_connection& conn) : lock_(mutex), conn_(conn) {}
  sql::connection& get() override { return conn_; }

 private:
  std::unique_lock<std::mutex> lock_;
  sqlite_connection& conn_;
};

class sqlite_database final : public sql::database {
 public:
  explicit sqlite_database(const std::filesystem::path& file) : conn_(file) {
    conn_.exec("PRAGMA busy_timeout = 5000");
    // journal_mode answers with a row; WAL lets the web API read while an agent's registration writes.
    {
      sql::statement s(conn_, "PRAGMA journal_mode = WAL");
      if (s.step() && s.text(0) != "wal") {
        throw store_error("database " + file.string() + " cannot use WAL mode (journal_mode is " + s.text(0) + ")");
      }
    }
    conn_.exec("PRAGMA synchronous = NORMAL");
    conn_.exec("PRAGMA foreign_keys = ON");
    sql::apply_migrations(conn_, migrations);
  }

  std::unique_ptr<sql::lease> acquire() override { return std::make_unique<sqlite_lease>(mutex_, conn_); }
  bool ping() noexcept override { return true; }  // a file in our own data folder, open since start

 private:

  std::mutex mutex_;
  sqlite_connection conn_;
};

}  // namespace

std::unique_ptr<sql::database> open_database(const std::filesystem::path& file) {
  return std::make_unique<sqlite_database>(file);
}

}  // namespace dockmon::store::sqlite
