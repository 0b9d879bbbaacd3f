// PostgreSQL under the store (sql/database.hpp), through libpq: a bounded pool of connections, lost ones
// reconnected on their next use, and the schema's migrations in PostgreSQL's dialect.
#pragma once

#include "sql/database.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace dockmon::store::postgres {

struct pool_options {
  std::size_t size = 8;                           // connections at most
  std::chrono::milliseconds wait{10'000};         // how long a call waits for a free one
};

// url: postgresql://... or postgres://..., as libpq reads it (sslmode, passfile, PG* variables honoured).
// Connects, migrates, and throws store_error with what to fix when it cannot.
std::unique_ptr<sql::database> open_database(const std::string& url, const pool_options& options);

}  // namespace dockmon::store::postgres
