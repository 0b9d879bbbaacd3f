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
  bool leads() const { return leads_; }
  void set_leads(bool leads) { leads_ = leads; }
  const std::string& id() const { return id_; }
  // The other live replicas, as the last beat read them (a browser's live feed is relayed from each).
  const std::vector<store::replica_place>& peers() const { return peers_; }
  void set_peers(std::vector<store::replica_place> peers) { peers_ = std::move(peers); }
  const std::string& address() const { return address_; }

  // This replica took the host now (its agent connected here).
  void took(const std::string& host_id) { taken_[host_id] = clock::now(); }
  void let_go(const std::string& host_id) { taken_.erase(host_id); }
  // Whether the host was taken here before `t` (a record read at `t` that lacks it means another took it).
  bool taken_before(const std::string& host_id, clock::time_point t) const;

 private:
  std::string id_;
  std::string address_;
  bool leads_ = true;
  std::vector<store::replica_place> peers_;
  std::unordered_map<std::string, clock::time_point> taken_;
};

// The header a replica adds to a request it sends on; a request that carries it is served where it
// lands, never sent on again.
inline constexpr std::string_view forwarded_header = "X-DockMon-Forwarded-By";

}  // namespace dockmon::server
