// Serves the embedded web UI: "/" and its hashed assets, with a Content-Security-Policy that lets the
// page run its own scripts and talk to its own origin only.
#pragma once

#include "core/answers.hpp"

#include <optional>

namespace dockmon::server {

// The answer for a UI path (GET or HEAD of "/", "/index.html" or "/assets/..."); nullopt otherwise.
std::optional<response> serve_web_ui(const request& req, std::string_view path);

}  // namespace dockmon::server
