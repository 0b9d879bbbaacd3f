// SQLite under the store (sql/database.hpp): the file made private to its owner, WAL mode, migrated.
#pragma once

#include "sql/database.hpp"

#include <filesystem>
#include <memory>

namespace dockmon::store::sqlite {

// Throws store_error with what to fix (unwritable folder, newer schema).
std::unique_ptr<sql::database> open_database(const std::filesystem::path& file);

}  // namespace dockmon::store::sqlite
