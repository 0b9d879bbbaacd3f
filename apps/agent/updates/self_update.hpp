// The agent's self-update. In a container it is container_handover's (self_update {version, image,
// checksum, signature}). In native mode (self_update {version, binary_url, checksum, signature}):
// download from its own server, verify the SHA-256 and the operator's Ed25519 signature, try the build
// (`--version` must print the announced version), install it with the running build kept, and exec it.
// The new build must then register within the deadline, or the previous build comes back (binary_swap).
// Every stage is a selfupdate_progress event {stage, message, error, version}; a refusal says why.
#pragma once

#include "updates/binary_swap.hpp"
#include "core/config.hpp"
#include "updates/container_handover.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace dockmon::agent {

struct self_update_request {
  std::string version;
  std::string target;     // the build's path on the agent's server
  std::string checksum;   // lower-case hex SHA-256
  std::string signature;  // base64 Ed25519 over signing::build_statement
};

struct parsed_self_update {
  std::optional<self_update_request> request;
  std::string error;
};
// Checks the payload; the error says which field is wrong.
parsed_self_update parse_self_update_payload(const json::object& payload, const server_url& server);

// Empty when the downloaded `file` is the build the operator signed for `version` on `arch`: its SHA-256
// is the announced checksum and the signature over (version, arch, SHA-256) verifies with `key`. Else why.
std::string verify_build(const std::string& file, const self_update_request& request, const signing::public_key& key,
                         const std::string& arch);

class self_updater {
 public:
  // at_start: what main() found about a pending update. argv: main's, for the exec. emit: sends one
  // event frame towards the server; events_pending: whether events still wait to be written. docker: the
  // engine, for container mode (without it an agent in a container cannot update itself).
  self_updater(net::any_io_executor ex, const agent_config& config, update_files files, start_check at_start,
               char** argv, std::function<void(std::string)> emit, std::function<bool()> events_pending,
               docker::client* docker = nullptr);

  // Why this agent refuses to update itself at all (no key, a container it cannot identify, a binary it
  // cannot replace); empty when it can.
  const std::string& unavailable() const { return unavailable_; }
  // "container" (updates from a signed image) or "native" (from a signed binary).
  std::string_view mode() const { return handover_ ? "container" : "native"; }

  // Starts an update in the background. Empty when it started; else why not (a malformed payload, an
  // update already running, unavailable()).
  std::string start(const json::object& payload);

  // Begins the trial's deadline when this build is on trial; call once, with the io_context about to run.
  void watch_trial();
  // The agent has registered: a build on trial has proven itself (the marker goes, "completed" is
  // reported), and the outcome of an earlier update that did not (rolled_back) is reported.
  void on_registered();

  // The connection ended with this close reason; in container mode, a copy may have taken over.
  void on_connection_closed(std::string_view reason);
  // Returns when the agent may dial again: at once, unless a copy of its container is taking over.
  net::awaitable<void> hold_while_handing_over();

 private:
  net::awaitable<void> run(self_update_request request);
  net::awaitable<void> trial_deadline();
  // Runs `binary --version` (10 s at most); empty when it printed "dockmon-agent <version>" and exited 0.
  net::awaitable<std::string> try_build(std::string binary, std::string version);
  net::awaitable<void> wait_until_events_written(std::chrono::milliseconds at_most);
  void progress(std::string_view stage, std::string message, const std::string& version, std::string error = {});

  net::any_io_executor executor_;
  const agent_config& config_;
  update_files files_;
  char** argv_;
  std::function<void(std::string)> emit_;
  std::function<bool()> events_pending_;
  std::string unavailable_;
  bool running_ = false;
  std::optional<update_marker> trial_;  // set while this build is on trial
  std::shared_ptr<net::steady_timer> trial_timer_;
  std::optional<container_handover> handover_;  // container mode only
};

}  // namespace dockmon::agent
