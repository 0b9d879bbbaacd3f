// A fresh store for each test, on SQLite (a file in a new folder) or PostgreSQL (a new database on the
// server DOCKMON_TEST_POSTGRES_URL names, dropped after the test), with raw SQL on it as another program's.
#pragma once

#include "dockmon/store/store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace dockmon::store {

enum class backend { sqlite, postgres };

std::string_view backend_name(backend b);

class store_fixture : public ::testing::Test {
 protected:
  explicit store_fixture(backend b) : backend_(b) {}
  void SetUp() override;
  void TearDown() override;

  // The store's URL for this test's database.
  std::string url() const;
  std::unique_ptr<store> open() { return open_store(url()); }

  // Runs raw SQL on the database, as an operator or another build might.
  void raw_exec(const std::string& sql);
  // One integer from a query run on the database directly.
  std::int64_t raw_int(const std::string& sql);

  static agent_registration sample_registration(std::string engine_id = "ENGINE-1");
  // Registers a new agent for the engine with a token of its own (fails the test when refused).
  registration_outcome register_engine(store& s, const std::string& engine_id);

  backend backend_;
  std::filesystem::path dir_;      // SQLite: the test's folder
  std::filesystem::path db_path_;  // SQLite: its database file
  std::string pg_base_;            // PostgreSQL: the server's URL without a database
  std::string pg_database_;        // PostgreSQL: this test's database
  sys_clock::time_point now_ = sys_clock::now();
};

class store_test : public store_fixture, public ::testing::WithParamInterface<backend> {
 protected:
  store_test() : store_fixture(GetParam()) {}
};

class sqlite_store_test : public store_fixture {
 protected:
  sqlite_store_test() : store_fixture(backend::sqlite) {}
};

class postgres_store_test : public store_fixture {
 protected:
  postgres_store_test() : store_fixture(backend::postgres) {}
};

}  // namespace dockmon::store
