// Embedded UI files by path, with their content type and cache rules.
#include "http/web_ui.hpp"

#include "http/web_assets.hpp"

namespace dockmon::server {

namespace {

std::string_view content_type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

const web_asset* find_asset(std::string_view path) {
  for (const auto& a : web_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace

std::optional<response> serve_web_ui(const request& req, std::string_view path) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) return std::nullopt;
  if (path == "/") path = "/index.html";
  const bool is_asset = path.starts_with("/assets/");
  if (path != "/index.html" && !is_asset && path != "/favicon.ico") return std::nullopt;
  const auto* asset = find_asset(path);
  if (asset == nullptr) {
    if (!is_asset) return std::nullopt;
    return error_response(req, http::status::not_found, "no such file");
  }
  response res{http::status::ok, req.version()};
  res.set(http::field::content_type, content_type_of(path));
  // Asset names carry a hash of their content: cached for good. The page itself is always fetched anew.
  res.set(http::field::cache_control, is_asset ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("Content-Security-Policy",
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::get) res.body() = std::string(asset->body);
  res.prepare_payload();
  if (req.method() == http::verb::head) res.content_length(asset->body.size());
  return res;
}

}  // namespace dockmon::server
