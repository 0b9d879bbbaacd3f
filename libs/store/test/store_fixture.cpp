// store_fixture.hpp: each test's own SQLite file or PostgreSQL database, and raw SQL on it.
#include "store_fixture.hpp"

#include "dockmon/common/crypto.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdlib>
#include <memory>

namespace dockmon::store {

namespace fs = std::filesystem;

namespace {

using pg_conn_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using pg_result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

pg_conn_ptr pg_connect(const std::string& url) {
  pg_conn_ptr conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << url << ": " << PQerrorMessage(conn.get());
  }
  return conn;
}

// Runs SQL; a failure fails the test. Returns the result for queries.
pg_result_ptr pg_run(PGconn* conn, const std::string& sql) {
  pg_result_ptr r(PQexec(conn, sql.c_str()), &PQclear);
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r.get());
  }
  return r;
}

}  // namespace

std::string_view backend_name(backend b) { return b == backend::sqlite ? "sqlite" : "postgres"; }

void store_fixture::SetUp() {
  if (backend_ == backend::sqlite) {
    std::string templ = (fs::temp_directory_path() / "dockmon-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    db_path_ = dir_ / "data" / "dockmon.db";  // "data" does not exist yet: open_store must create it
    return;
  }
  const char* base = std::getenv("DOCKMON_TEST_POSTGRES_URL");  // postgresql://user@host:port, no database
  if (base == nullptr || *base == '\0') {
    const char* required = std::getenv("DOCKMON_TEST_REQUIRE_POSTGRES");
    if (required != nullptr && std::string(required) == "1") {
      FAIL() << "DOCKMON_TEST_POSTGRES_URL is not set; run scripts/test-env start";
    }
    GTEST_SKIP() << "no PostgreSQL: DOCKMON_TEST_POSTGRES_URL is not set (scripts/test-env starts one)";
  }
  pg_base_ = base;
  pg_database_ = "dockmon_test_" + sha256_hex(random_uuid()).substr(0, 16);
  auto admin = pg_connect(pg_base_ + "/postgres");
  ASSERT_EQ(PQstatus(admin.get()), CONNECTION_OK);
  pg_run(admin.get(), "CREATE DATABASE " + pg_database_);
}

void store_fixture::TearDown() {
  if (backend_ == backend::sqlite) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    return;
  }
  if (pg_database_.empty()) return;
  auto admin = pg_connect(pg_base_ + "/postgres");
  pg_run(admin.get(), "DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)");
}

std::string store_fixture::url() const {
  if (backend_ == backend::sqlite) return "sqlite://" + db_path_.string();
  return pg_base_ + "/" + pg_database_;
}

void store_fixture::raw_exec(const std::string& sql) {
  if (backend_ == backend::postgres) {
    auto conn = pg_connect(url());
    pg_run(conn.get(), sql);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::int64_t store_fixture::raw_int(const std::string& sql) {
  if (backend_ == backend::postgres) {
    auto conn = pg_connect(url());
    auto r = pg_run(conn.get(), sql);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1) {
      ADD_FAILURE() << sql << " gave no row";
      return -1;
    }
    return std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
  }
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    value = sqlite3_column_int64(st, 0);
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return value;
}

registration_outcome store_fixture::register_engine(store& s, const std::string& engine_id) {
  s.create_registration_token("reg-" + engine_id, "admin-id", now_ + std::chrono::hours(1));
  auto out = s.register_with_token("reg-" + engine_id, "perm-" + engine_id, sample_registration(engine_id), now_);
  EXPECT_EQ(out.status, registration_status::ok) << engine_id;
  return out;
}

agent_registration store_fixture::sample_registration(std::string engine_id) {
  agent_registration reg;
  reg.engine_id = std::move(engine_id);
  reg.version = "1.0.0";
  reg.proto_version = "1";
  reg.capabilities = R"({"stats":true})";
  reg.arch = "amd64";
  reg.info.hostname = "node-a";
  reg.info.os_type = "linux";
  reg.info.os_version = "Debian 12";
  reg.info.kernel_version = "6.1.0";
  reg.info.docker_version = "24.0.7";
  reg.info.daemon_started_at = "2026-01-01T00:00:00Z";
  reg.info.total_memory = 8LL * 1024 * 1024 * 1024;
  reg.info.num_cpus = 4;
  return reg;
}

}  // namespace dockmon::store
