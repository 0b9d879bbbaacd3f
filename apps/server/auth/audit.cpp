// Audit entries: one log line at once, the row written in the background.
#include "auth/audit.hpp"

#include "dockmon/common/log.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

void record_audit(server_context& ctx, const store::principal& who, std::string action, std::string target,
                  std::string result) {
  // Targets and results carry names and agents' error texts: capped and cleaned for the log and the table.
  target = log_text(target, 512);
  result = log_text(result, 512);
  spdlog::info("audit: {} {} {} -> {}", log_text(who.username, 64), action, target, result);
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
