// The web UI's files, embedded in the server binary (generated from web/dist by cmake/embed_assets.cmake).
#pragma once

#include <span>
#include <string_view>

namespace dockmon::server {

struct web_asset {
  std::string_view path;  // "/index.html", "/assets/index-1a2b3c.js"
  std::string_view body;
};

std::span<const web_asset> web_assets();

}  // namespace dockmon::server
