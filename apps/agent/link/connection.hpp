// The agent's link to the server: dial, register, serve commands, and on any failure wait with
// backoff and dial again, forever.
#pragma once

#include "core/config.hpp"
#include "commands/dispatcher.hpp"
#include "health/health_monitor.hpp"
#include "telemetry/telemetry.hpp"
#include "link/token_file.hpp"

namespace dockmon::agent {

class connection {
 public:
  // self_update may be null (tests): self_update commands are then refused.
  connection(net::any_io_executor ex, agent_config config, docker::client& docker, telemetry& live,
             self_updater* self_update = nullptr);

  // Runs until the process stops.
  net::awaitable<void> run_forever();

  // How one connection attempt ended.
  enum class ended { never_connected, refused, registered_then_dropped };

 private:
  template <class Stream>
  // WebSocket handshake, registration, then commands until the connection drops.
  net::awaitable<ended> serve(std::shared_ptr<websocket::stream<Stream>> ws, std::string host_header);
  net::awaitable<ended> attempt();
  std::string current_token() const;

  net::any_io_executor executor_;
  agent_config config_;
  std::size_t next_server_ = 0;  // index in config_.servers of the one dialed now
  docker::client& docker_;
  telemetry& telemetry_;
  command_audit audit_;
  health_monitor health_;  // checks run whether or not a server is connected
  container_updater updates_;  // updates outlive a connection: their events wait in telemetry's backlog
  self_updater* self_update_;
  dispatcher dispatcher_;
  std::optional<ssl::context> tls_;  // only for wss://: loading the CA store costs memory
  std::optional<token_key> token_key_;  // known after the first answer from Docker
  std::string stored_token_;  // from the token file, or the last one the server issued
  std::string close_reason_;  // the server's, when it closed the last connection
};

}  // namespace dockmon::agent
