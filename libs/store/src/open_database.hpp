// The database a URL names, migrated (open_store puts the store over it; copy_store copies between two).
#pragma once

#include "dockmon/store/store.hpp"
#include "sql/database.hpp"

#include <memory>
#include <string_view>

namespace dockmon::store {

std::unique_ptr<sql::database> open_database(std::string_view url, const store_options& options);

}  // namespace dockmon::store
