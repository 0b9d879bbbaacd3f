// apply_migrations: the schema_version table, and each newer migration with its row, in one transaction.
#include "sql/migrations.hpp"

#include <string>

namespace dockmon::store::sql {

void apply_migrations(connection& conn, std::span<const migration> migrations) {
  transaction tx(conn);
  conn.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)");
  std::int64_t current = 0;
  {
    statement s(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (s.step()) current = s.int64(0);
  }
  if (current > latest_schema_version) {
    throw store_error("database schema version " + std::to_string(current) + " is newer than this build supports (" +
                      std::to_string(latest_schema_version) + "); upgrade dockmon-server");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    conn.exec(m.sql);
    statement s(conn, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
    s.bind_all(std::int64_t{m.version}, now_iso8601()).run();
  }
  tx.commit();
}

}  // namespace dockmon::store::sql
