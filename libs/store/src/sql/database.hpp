// What the store's SQL needs of a database, whichever it is: connections lent from a pool, statements with
// numbered parameters (?1, ?2, ... in the SQL text; each backend turns them into its own), transactions.
// sqlite/ and postgres/ implement it; sql_store runs the same SQL on both.
#pragma once

#include "dockmon/store/store.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::store::sql {

// The schema version this build migrates to, in each dialect's migrations.
inline constexpr int latest_schema_version = 14;

// One statement of one backend, made by a connection; the wrapper below is what the store uses.
class statement_impl {
 public:
  virtual ~statement_impl() = default;
  virtual void bind(int index, std::string_view text) = 0;
  virtual void bind(int index, std::int64_t value) = 0;
  virtual void bind(int index, double value) = 0;
  virtual void bind_null(int index) = 0;
  // true when a row is ready, false when done; throws store_error on failure.
  virtual bool step() = 0;
  // Makes the statement ready to run again with new bindings.
  virtual void reset() = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t int64(int column) const = 0;
  virtual double real(int column) const = 0;
  virtual bool is_null(int column) const = 0;
  // Rows the last run inserted, updated or deleted.
  virtual std::size_t changes() const = 0;
  // Whether the last failure was a UNIQUE constraint.
  virtual bool unique_violation() const = 0;
};

// A connection lent to one call at a time.
class connection {
 public:
  virtual ~connection() = default;
  virtual std::unique_ptr<statement_impl> prepare(std::string_view sql) = 0;
  // Runs fixed SQL without parameters (migrations, BEGIN/COMMIT); never pass it outside input.
  virtual void exec(const char* sql) = 0;
  // Starts a transaction that no other writer of the database runs beside: SQLite's BEGIN IMMEDIATE, a
  // transaction-scoped advisory lock on PostgreSQL (several servers may share the database).
  virtual void begin_write() = 0;
  // After rows were copied into `table` with their ids: new rows continue after the largest (PostgreSQL's
  // identity columns do not follow explicit ids by themselves; SQLite's AUTOINCREMENT does).
  virtual void continue_ids_after(std::string_view table) { (void)table; }
};

// Values go in only through bind, never into the SQL text.
class statement {
 public:
  statement(connection& conn, std::string_view sql) : impl_(conn.prepare(sql)) {}

  statement& bind(int index, std::string_view text) { impl_->bind(index, text); return *this; }
  statement& bind(int index, std::int64_t value) { impl_->bind(index, value); return *this; }
  statement& bind(int index, double value) { impl_->bind(index, value); return *this; }
  statement& bind_null(int index) { impl_->bind_null(index); return *this; }

  // Binds its arguments to ?1, ?2, ... in order.
  template <typename... Args>
  statement& bind_all(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
    return *this;
  }

  bool step() { return impl_->step(); }
  // Steps to completion, for statements that return no rows.
  void run() {
    while (step()) {
    }
  }
  void reset() { impl_->reset(); }
  std::string text(int column) const { return impl_->text(column); }
  std::int64_t int64(int column) const { return impl_->int64(column); }
  double real(int column) const { return impl_->real(column); }
  bool is_null(int column) const { return impl_->is_null(column); }
  std::size_t changes() const { return impl_->changes(); }
  bool unique_violation() const { return impl_->unique_violation(); }

 private:
  void bind_one(int index, std::string_view v) { bind(index, v); }
  void bind_one(int index, const std::string& v) { bind(index, std::string_view(v)); }
  void bind_one(int index, const char* v) { bind(index, std::string_view(v)); }
  void bind_one(int index, std::int64_t v) { bind(index, v); }
  void bind_one(int index, double v) { bind(index, v); }
  void bind_one(int index, std::nullopt_t) { bind_null(index); }

  std::unique_ptr<statement_impl> impl_;
};

// A write transaction; ROLLBACK on destruction unless commit() ran.
class transaction {
 public:
  explicit transaction(connection& conn) : conn_(conn) { conn_.begin_write(); }
  ~transaction() {
    if (done_) return;
    try {
      conn_.exec("ROLLBACK");
    } catch (const store_error&) {  // a lost connection rolled back already
    }
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit() {
    conn_.exec("COMMIT");
    done_ = true;
  }

 private:
  connection& conn_;
  bool done_ = false;
};

// A connection lent for the length of one store call; returned to its pool when the lease ends.
class lease {
 public:
  virtual ~lease() = default;
  virtual connection& get() = 0;
  connection& operator*() { return get(); }
};

// Where connections come from: SQLite's one connection, or a PostgreSQL pool.
class database {
 public:
  virtual ~database() = default;
  // Waits for a free connection (bounded); throws store_error when the database cannot be reached.
  virtual std::unique_ptr<lease> acquire() = 0;
  // Whether the database answers now, for readiness checks; never throws.
  virtual bool ping() noexcept = 0;
};

}  // namespace dockmon::store::sql
