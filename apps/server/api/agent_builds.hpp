// Agent builds for self-updates: the operator uploads signed builds per version and architecture, an
// admin asks a host's agent to move to one, and the agent fetches it once with a short-lived ticket.
// Routes (the table in routes.cpp; handlers in handlers.hpp):
//   POST   /api/agent-builds?version=&arch=       admin; body: the binary (at most 64 MiB);
//                                                 header X-Dockmon-Signature: the operator's signature
//   GET    /api/agent-builds                      admin: the builds, newest first
//   DELETE /api/agent-builds/{version}/{arch}      admin
//   POST   /api/hosts/{host_id}/agent/update {version, arch?}   admin: sends self_update, answers 202
//   GET    /api/agent-builds/download/{ticket}    no sign-in: the ticket is the credential (single use,
//                                                 10 minutes), served by http_session as a file
#pragma once

#include "core/answers.hpp"

#include <chrono>
#include <string>
#include <unordered_map>

namespace dockmon::server {

struct server_context;

inline constexpr std::size_t max_agent_build_bytes = 64 * 1024 * 1024;
inline constexpr std::string_view agent_build_download_prefix = "/api/agent-builds/download/";

// One build, as the store and the file tree name it.
struct agent_build_ref {
  std::string version;
  std::string arch;
};

// <data_dir>/agent-builds/<arch>/<version>: a folder per arch, since a version may hold a '-' and
// "<version>-<arch>" could name two builds.
std::string agent_build_file(const std::string& data_dir, const agent_build_ref& build);

// Download tickets: random 256-bit, single use, valid 10 minutes, kept in the database by their hash (so
// that any replica redeems one another made). The agent only has its WebSocket; a ticket in the URL lets
// it fetch one file over plain HTTP(S) without presenting its permanent token anywhere but the socket, and
// is worth nothing once used or expired. Both block: run them on the database pool.
inline constexpr auto download_ticket_lifetime = std::chrono::minutes(10);
std::string mint_download_ticket(store::store& s, const agent_build_ref& build, sys_clock::time_point now);
// The build the ticket was made for; nullopt when unknown, used or expired. Spends the ticket.
std::optional<agent_build_ref> redeem_download_ticket(store::store& s, std::string_view ticket, sys_clock::time_point now);

// Whether the request whose header has arrived may send a body of up to max_agent_build_bytes: only an
// admin's upload. Everyone else keeps the 1 MiB limit, so strangers cannot make the server read 64 MiB.
net::awaitable<bool> may_send_agent_build(server_context& ctx, const request& header);

// GET /api/agent-builds/download/{ticket}: the file, or an error answer.
struct build_download {
  std::optional<http::response<http::file_body>> file;
  response error;
};
net::awaitable<build_download> download_agent_build(server_context& ctx, const request& req);

}  // namespace dockmon::server
