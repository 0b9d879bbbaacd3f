// copy_store: every row of every table, from one database into a new one, in one transaction on the new one.
#include "open_database.hpp"

#include <array>
#include <string>
#include <vector>

namespace dockmon::store {

namespace {

enum class kind { text, integer, real };

struct column {
  const char* name;
  kind type;
};

struct table {
  const char* name;
  bool has_identity;  // an integer id the database hands out
  std::vector<column> columns;
};

constexpr auto t = kind::text;
constexpr auto i = kind::integer;
constexpr auto r = kind::real;

// Schema version 14, parents before the rows that refer to them. The replicas, their holds, the settings
// changes they tell each other and the download tickets are live state, true only of the servers running
// now: they stay behind.
const std::vector<table>& tables() {
  static const std::vector<table> all = {
      {"users", false, {{"id", t}, {"username", t}, {"password_hash", t}, {"role", t}, {"created_at", t}, {"disabled", i}}},
      {"sessions", false, {{"token_hash", t}, {"user_id", t}, {"created_at", t}, {"expires_at", t}}},
      {"api_keys", false, {{"id", t}, {"name", t}, {"key_hash", t}, {"user_id", t}, {"role", t}, {"created_at", t},
                           {"expires_at", t}, {"revoked", i}, {"parent_key_id", t}}},
      {"registration_tokens", false, {{"token_hash", t}, {"created_by_user_id", t}, {"created_at", t}, {"expires_at", t},
                                      {"used", i}, {"used_at", t}, {"host_id", t}}},
      {"docker_hosts", false, {{"id", t}, {"name", t}, {"connection_type", t}, {"os_type", t}, {"os_version", t},
                               {"kernel_version", t}, {"docker_version", t}, {"daemon_started_at", t}, {"total_memory", i},
                               {"num_cpus", i}, {"created_at", t}, {"updated_at", t}}},
      {"agents", false, {{"id", t}, {"host_id", t}, {"engine_id", t}, {"version", t}, {"proto_version", t},
                         {"capabilities", t}, {"status", t}, {"last_seen_at", t}, {"registered_at", t}, {"token_hash", t},
                         {"next_token_hash", t}, {"revoked_at", t}, {"arch", t}, {"force_unique", i}}},
      {"events", true, {{"id", i}, {"host_id", t}, {"container_id", t}, {"container_name", t}, {"type", t}, {"action", t},
                        {"message", t}, {"timestamp", t}, {"image", t}, {"attributes", t}}},
      {"audit_log", true, {{"id", i}, {"at", t}, {"user_id", t}, {"action", t}, {"target", t}, {"result", t}}},
      {"stats_rollups", false, {{"key", t}, {"step", i}, {"t", i}, {"cpu_percent", r}, {"memory_usage", r},
                                {"memory_limit", r}, {"memory_percent", r}, {"network_rx", r}, {"network_tx", r},
                                {"disk_read", r}, {"disk_write", r}, {"pids", r}}},
      {"agent_builds", false, {{"version", t}, {"arch", t}, {"sha256", t}, {"signature", t}, {"size", i},
                               {"created_at", t}, {"created_by_user_id", t}}},
      {"alert_rules", false, {{"id", t}, {"name", t}, {"enabled", i}, {"definition", t}, {"created_at", t}, {"updated_at", t}}},
      {"alerts", false, {{"id", t}, {"rule_id", t}, {"host_id", t}, {"container_id", t}, {"target_name", t}, {"kind", t},
                         {"severity", t}, {"state", t}, {"message", t}, {"fired_at", t}, {"resolved_at", t},
                         {"acknowledged_at", t}, {"acknowledged_by", t}, {"snoozed_until", t}, {"notified", i}}},
      {"notification_channels", false, {{"id", t}, {"name", t}, {"type", t}, {"sealed_config", t}, {"enabled", i},
                                        {"created_at", t}, {"updated_at", t}}},
      {"notifications", true, {{"id", i}, {"alert_id", t}, {"channel_id", t}, {"message", t}, {"state", t},
                               {"attempts", i}, {"next_attempt_ms", i}, {"last_error", t}, {"created_at", t},
                               {"sent_at", t}, {"group_key", t}}},
      {"blackouts", false, {{"id", t}, {"name", t}, {"definition", t}, {"created_at", t}}},
      {"tags", false, {{"host_id", t}, {"container_name", t}, {"tag", t}}},
      {"health_checks", false, {{"host_id", t}, {"container_name", t}, {"settings", t}, {"secrets_sealed", t},
                                {"updated_at", t}}},
  };
  return all;
}

std::size_t count_rows(sql::connection& conn, const std::string& table_name) {
  sql::statement s(conn, "SELECT COUNT(*) FROM " + table_name);
  return s.step() ? static_cast<std::size_t>(s.int64(0)) : 0;
}

}  // namespace

void copy_store(std::string_view from_url, std::string_view to_url,
                const std::function<void(const copy_progress&)>& progress) {
  store_options one_connection;
  one_connection.pool_size = 1;
  auto from = open_database(from_url, one_connection);
  auto to = open_database(to_url, one_connection);
  auto source = from->acquire();
  auto target = to->acquire();
  for (const char* filled : {"users", "docker_hosts", "events"}) {
    if (const auto n = count_rows(**target, filled); n > 0) {
      throw store_error("the target database already holds data (" + std::to_string(n) + " rows in " + filled +
                        "); migrate-store only fills a new, empty one");
    }
  }
  // One transaction on the target: a copy that stops half-way leaves it empty, to be tried again.
  sql::transaction tx(**target);
  for (const auto& tb : tables()) {
    std::string names, marks;
    for (std::size_t c = 0; c < tb.columns.size(); ++c) {
      names += (c ? ", " : "") + std::string(tb.columns[c].name);
      marks += (c ? ", ?" : "?") + std::to_string(c + 1);
    }
    sql::statement read(**source, "SELECT " + names + " FROM " + tb.name);
    sql::statement write(**target, "INSERT INTO " + std::string(tb.name) + " (" + names + ") VALUES (" + marks + ")");
    copy_progress p{tb.name, 0, false};
    while (read.step()) {
      for (std::size_t c = 0; c < tb.columns.size(); ++c) {
        const int col = static_cast<int>(c);
        if (read.is_null(col)) write.bind_null(col + 1);
        else if (tb.columns[c].type == kind::integer) write.bind(col + 1, read.int64(col));
        else if (tb.columns[c].type == kind::real) write.bind(col + 1, read.real(col));
        else write.bind(col + 1, read.text(col));
      }
      write.run();
      write.reset();
      if (++p.rows % 10'000 == 0 && progress) progress(p);
    }
    if (tb.has_identity) (**target).continue_ids_after(tb.name);
    p.table_done = true;
    if (progress) progress(p);
  }
  tx.commit();
}

}  // namespace dockmon::store
