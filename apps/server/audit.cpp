// Audit entries: one log line at once, the row written in the background.
#include "audit.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

void record_audit(server_context& ctx, const store::principal& who, std::string action, std::string target,
                  std::string result) {
  spdlog::info("audit: {} {} {} -> {}", who.username, action, target, result);
  auto user_id = who.user_id;
  auto at = sys_clock::now();
  net::post(ctx.db_pool, [&db = *ctx.db, user_id, action, target, result, at] {
    try {
      db.append_audit(user_id, action, target, result, at);
    } catch (const std::exception& e) {
      spdlog::error("audit log write failed: {}", e.what());
    }
  });
}

store::principal system_principal() { return store::principal{"system", "system", "admin", "server", {}, {}}; }

}  // namespace dockmon::server
