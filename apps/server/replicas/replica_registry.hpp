// This server as one replica of several on one PostgreSQL database (--replica-address): its id, the
// address the others reach it at, and when it took each host it holds. An agent is held by the one
// replica it is connected to; the database records which (store::hold_host), and a replica not seen
// alive for `lease` holds nothing (agents/replica_link renews it every `beat`).
#pragma once

#include "dockmon/store/store.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dockmon::server {

class replica_registry {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds beat{3};
  static constexpr std::chrono::seconds lease{10};

  // address empty: a single server, and nothing here is used.
  explicit replica_registry(std::string address);

  bool enabled() const { return !address_.empty(); }
  // The live replica with the lowest id counts the hosts no replica holds (their agents are away), so
  // that a host down is one alert, not one per replica.
  // Before the first beat, it leads.
  bool leads() const { return leader_.replica_id.empty() || leader_.replica_id == id_; }
  const std::string& id() const { return id_; }
  // The other live replicas, as the last beat read them (a browser's live feed is relayed from each).
  const std::vector<store::replica_place>& peers() const { return peers_; }
  void set_peers(std::vector<store::replica_place> peers) { peers_ = std::move(peers); }
  // The live replica with the lowest id, as the last beat read it (empty before the first).
  const store::replica_place& leader() const { return leader_; }
  void set_leader(store::replica_place leader) { leader_ = std::move(leader); }
  // The hosts any live replica holds, as the last beat read them.
  void set_held(std::vector<std::string> held) { held_ = std::unordered_set<std::string>(held.begin(), held.end()); }
  bool held_anywhere(const std::string& host_id) const { return held_.contains(host_id); }
  // Whether this replica does the work the server does itself for a host (its server-side health
  // checks): the replica holding its agent, or the leader when none does. Always on a single server.
  bool works_for(const std::string& host_id, bool agent_here) const {
    return !enabled() || agent_here || (leads() && !held_anywhere(host_id));
  }
  // The last settings change read (store::settings_change's seq; agents/replica_settings).
  std::int64_t settings_seen() const { return settings_seen_; }
  void set_settings_seen(std::int64_t seq) { settings_seen_ = seq; }
  const std::string& address() const { return address_; }

  // This replica took the host now (its agent connected here).
  void took(const std::string& host_id) { taken_[host_id] = clock::now(); }
  void let_go(const std::string& host_id) { taken_.erase(host_id); }
  // Whether the host was taken here before `t` (a record read at `t` that lacks it means another took it).
  bool taken_before(const std::string& host_id, clock::time_point t) const;

 private:
  std::string id_;
  std::string address_;
  std::vector<store::replica_place> peers_;
  std::unordered_set<std::string> held_;
  store::replica_place leader_;
  std::int64_t settings_seen_ = 0;
  std::unordered_map<std::string, clock::time_point> taken_;
};

// The header a replica adds to a request it sends on; a request that carries it is served where it
// lands, never sent on again.
inline constexpr std::string_view forwarded_header = "X-DockMon-Forwarded-By";

}  // namespace dockmon::server
