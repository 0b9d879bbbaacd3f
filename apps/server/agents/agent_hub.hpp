// The connection manager and command executor: which agent is on which connection, and commands
// routed to agents by correlation id with a deadline. Runs on the server's single I/O thread.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/protocol/envelope.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace dockmon::server {

// One connected agent, as the hub sees it.
class agent_connection {
 public:
  agent_connection(std::string agent_id, std::string host_id);
  virtual ~agent_connection() = default;

  // Queues a frame for the agent; never blocks.
  virtual void send(std::string frame) = 0;
  // Ends the connection (replaced, revoked, shutting down).
  virtual void close(std::string_view reason) = 0;

  const std::string& agent_id() const { return agent_id_; }
  const std::string& host_id() const { return host_id_; }
  std::uint64_t serial() const { return serial_; }

 private:
  std::string agent_id_;
  std::string host_id_;
  std::uint64_t serial_;
};

struct command_outcome {
  enum class status { ok, agent_error, timeout, disconnected, not_connected };
  status result = status::not_connected;
  json::value payload;  // response payload, or the whole flat operation reply
  std::string error;    // the agent's error text for agent_error
};

class agent_hub {
 public:
  explicit agent_hub(net::any_io_executor ex) : executor_(ex) {}

  // Makes c the agent's connection, closing the one it replaces (a second connection of the same agent wins).
  void attach(const std::shared_ptr<agent_connection>& c);
  // Forgets c and fails its pending commands at once. True when c was still current (the agent is now offline).
  bool detach(const agent_connection& c);

  std::shared_ptr<agent_connection> find_by_host(std::string_view host_id) const;
  bool is_online(std::string_view host_id) const { return find_by_host(host_id) != nullptr; }
  std::size_t online_count() const { return by_agent_.size(); }
  // The hosts whose agents are connected here.
  std::vector<std::string> host_ids() const;
  std::size_t pending_count() const { return pending_.size(); }

  // Gives the message a fresh correlation id, sends it and waits for the reply or the deadline.
  // Message: protocol::command or protocol::container_operation.
  template <class Message>
  net::awaitable<command_outcome> execute(std::string host_id, Message msg, std::chrono::milliseconds timeout);

  // A response or operation reply arrived on connection `from`. Replies to commands that another
  // connection carried are ignored: an agent can only answer what was sent to it.
  void on_reply(const agent_connection& from, const protocol::agent_message& msg);

  void close_all(std::string_view reason);

 private:
  struct pending_command {
    explicit pending_command(net::any_io_executor ex) : timer(ex) {}
    net::steady_timer timer;
    std::uint64_t connection_serial = 0;
    std::optional<command_outcome> outcome;
  };

  net::awaitable<command_outcome> send_and_wait(std::string host_id, std::string correlation_id, json::object frame,
                                                std::chrono::milliseconds timeout);

  net::any_io_executor executor_;
  std::unordered_map<std::string, std::shared_ptr<agent_connection>> by_agent_;
  std::unordered_map<std::string, std::string> agent_by_host_;
  std::unordered_map<std::string, std::shared_ptr<pending_command>> pending_;
};

}  // namespace dockmon::server
