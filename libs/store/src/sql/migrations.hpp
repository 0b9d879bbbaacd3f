// Versioned schema migrations, each dialect's list run the same way.
#pragma once

#include "sql/database.hpp"

#include <span>

namespace dockmon::store::sql {

struct migration {
  int version;
  const char* sql;
};

// Applies the migrations newer than the database's schema_version, in one write transaction (servers that
// open one database together migrate it once). Throws store_error when the database is newer than this build.
void apply_migrations(connection& conn, std::span<const migration> migrations);

}  // namespace dockmon::store::sql
