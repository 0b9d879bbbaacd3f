// Connection manager and command executor.
#include "agents/agent_hub.hpp"

#include "dockmon/common/crypto.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

namespace dockmon::server {

namespace {
std::atomic<std::uint64_t> next_serial{1};
}

agent_connection::agent_connection(std::string agent_id, std::string host_id)
    : agent_id_(std::move(agent_id)), host_id_(std::move(host_id)), serial_(next_serial++) {}

void agent_hub::attach(const std::shared_ptr<agent_connection>& c) {
  auto [it, inserted] = by_agent_.try_emplace(c->agent_id(), c);
  if (!inserted) {
    auto previous = std::move(it->second);
    it->second = c;
    spdlog::info("agent {} connected again; closing its previous connection", c->agent_id());
    // Its pending commands cannot be answered any more.
    for (auto& [id, p] : pending_) {
      if (p->connection_serial == previous->serial() && !p->outcome) {
        p->outcome = command_outcome{command_outcome::status::disconnected, nullptr, "agent reconnected"};
        p->timer.cancel();
      }
    }
    previous->close("replaced by a newer connection of the same agent");
  }
  agent_by_host_[c->host_id()] = c->agent_id();
}

bool agent_hub::detach(const agent_connection& c) {
  for (auto& [id, p] : pending_) {
    if (p->connection_serial == c.serial() && !p->outcome) {
      p->outcome = command_outcome{command_outcome::status::disconnected, nullptr, "agent disconnected"};
      p->timer.cancel();
    }
  }
  auto it = by_agent_.find(c.agent_id());
  if (it == by_agent_.end() || it->second->serial() != c.serial()) return false;
  by_agent_.erase(it);
  agent_by_host_.erase(c.host_id());
  return true;
}

std::shared_ptr<agent_connection> agent_hub::find_by_host(std::string_view host_id) const {
  auto h = agent_by_host_.find(std::string(host_id));
  if (h == agent_by_host_.end()) return nullptr;
  auto a = by_agent_.find(h->second);
  return a == by_agent_.end() ? nullptr : a->second;
}

std::vector<std::string> agent_hub::host_ids() const {
  std::vector<std::string> out;
  out.reserve(agent_by_host_.size());
  for (const auto& [host, agent] : agent_by_host_) out.push_back(host);
  return out;
}

template <class Message>
net::awaitable<command_outcome> agent_hub::execute(std::string host_id, Message msg, std::chrono::milliseconds timeout) {
  msg.id = random_uuid();
  auto id = msg.id;
  auto frame = protocol::to_json(msg);
  co_return co_await send_and_wait(std::move(host_id), std::move(id), std::move(frame), timeout);
}

template net::awaitable<command_outcome> agent_hub::execute(std::string, protocol::command, std::chrono::milliseconds);
template net::awaitable<command_outcome> agent_hub::execute(std::string, protocol::container_operation,
                                                            std::chrono::milliseconds);

net::awaitable<command_outcome> agent_hub::send_and_wait(std::string host_id, std::string correlation_id,
                                                         json::object frame, std::chrono::milliseconds timeout) {
  auto connection = find_by_host(host_id);
  if (!connection) co_return command_outcome{command_outcome::status::not_connected, nullptr, "agent not connected"};
  auto pending = std::make_shared<pending_command>(executor_);
  pending->connection_serial = connection->serial();
  pending_.emplace(correlation_id, pending);
  connection->send(json::serialize(frame));
  connection.reset();

  pending->timer.expires_after(timeout);
  co_await pending->timer.async_wait(use_tuple);
  pending_.erase(correlation_id);
  if (pending->outcome) co_return std::move(*pending->outcome);
  spdlog::warn("command {} to host {} timed out after {} ms", correlation_id, host_id, timeout.count());
  co_return command_outcome{command_outcome::status::timeout, nullptr, "agent did not answer in time"};
}

void agent_hub::on_reply(const agent_connection& from, const protocol::agent_message& msg) {
  auto it = pending_.find(msg.correlation_id);
  if (it == pending_.end()) {
    spdlog::debug("reply {} from agent {} matches no pending command (late or unknown)", msg.correlation_id, from.agent_id());
    return;
  }
  auto& p = *it->second;
  if (p.connection_serial != from.serial()) {
    spdlog::warn("agent {} answered command {} that was not sent to it; ignored", from.agent_id(), msg.correlation_id);
    return;
  }
  if (p.outcome) return;
  p.outcome = command_outcome{msg.success ? command_outcome::status::ok : command_outcome::status::agent_error,
                              msg.payload, msg.error};
  p.timer.cancel();
}

void agent_hub::close_all(std::string_view reason) {
  auto connections = by_agent_;
  for (auto& [id, c] : connections) c->close(reason);
}

}  // namespace dockmon::server
