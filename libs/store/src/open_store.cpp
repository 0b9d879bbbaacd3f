// open_store: picks the database under the store from its URL (Drogon-style sqlite:// / postgresql://);
// and the ranking of roles that every store applies to API keys.
#include "open_database.hpp"

#include "dockmon/store/store.hpp"
#include "postgres/postgres_database.hpp"
#include "sql/sql_store.hpp"
#include "sqlite/sqlite_database.hpp"

#include <filesystem>
#include <string>
#include <system_error>

namespace dockmon::store {

namespace {

constexpr std::string_view accepted_forms =
    "use sqlite:///absolute/path/dockmon.db, sqlite://relative/path/dockmon.db or "
    "postgresql://user@host:5432/database";

std::unique_ptr<sql::database> open_sqlite(std::string_view url, std::string_view path_text) {
  if (path_text.empty() || path_text == "/") {
    throw store_error("database URL '" + std::string(url) + "' names no file; " + std::string(accepted_forms));
  }
  std::filesystem::path file{std::string(path_text)};
  if (!file.has_filename()) {
    throw store_error("database URL '" + std::string(url) + "' names a folder, not a file; " +
                      std::string(accepted_forms));
  }
  if (auto parent = file.parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw store_error("cannot create the database folder " + parent.string() + ": " + ec.message() +
                        "; choose a writable --data-dir or --database-url");
    }
  }
  return sqlite::open_database(file);
}

}  // namespace

std::unique_ptr<sql::database> open_database(std::string_view url, const store_options& options) {
  constexpr std::string_view sqlite_prefix = "sqlite://";
  if (url.starts_with(sqlite_prefix)) return open_sqlite(url, url.substr(sqlite_prefix.size()));
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    postgres::pool_options pool;
    pool.size = options.pool_size;
    return postgres::open_database(std::string(url), pool);
  }
  throw store_error("unsupported database URL '" + redact_database_url(url) + "'; " + std::string(accepted_forms));
}

std::unique_ptr<store> open_store(std::string_view url, const store_options& options) {
  return std::make_unique<sql::sql_store>(open_database(url, options));
}

}  // namespace dockmon::store

namespace dockmon::store {

int role_rank(std::string_view role) {
  if (role == "viewer") return 0;
  if (role == "operator") return 1;
  if (role == "admin") return 2;
  return -1;
}

}  // namespace dockmon::store
