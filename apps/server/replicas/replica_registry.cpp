// This server's identity among replicas.
#include "replicas/replica_registry.hpp"

#include "dockmon/common/crypto.hpp"

namespace dockmon::server {

replica_registry::replica_registry(std::string address)
    : id_(address.empty() ? std::string() : random_uuid()), address_(std::move(address)) {}

bool replica_registry::taken_before(const std::string& host_id, clock::time_point t) const {
  auto it = taken_.find(host_id);
  return it != taken_.end() && it->second < t;
}

}  // namespace dockmon::server
