// HTTP GET of a build into a file with Beast's file_body: the bytes go to disk as they arrive.
#include "updates/build_download.hpp"

#include "dockmon/common/files.hpp"
#include "dockmon/common/json_fields.hpp"
#include "core/server_dial.hpp"
#include "core/version.hpp"

#include <algorithm>
#include <filesystem>

namespace dockmon::agent {

namespace {

constexpr std::string_view socket_path = "/api/agent/ws";

// Printable ASCII without spaces or a fragment: what the server's paths and tickets are made of.
bool plain_path(std::string_view path) {
  return !path.empty() && path.front() == '/' && path.size() <= 2048 &&
         std::all_of(path.begin(), path.end(), [](char c) { return c > ' ' && c < 0x7f && c != '#'; });
}

// The server's JSON error, when the answer has one.
std::string error_in(const std::string& file) {
  try {
    auto text = read_small_file(file, 4096);
    error_code ec;
    auto value = json::parse(text.value_or(""), ec);
    if (!ec && value.is_object()) return string_field(value.as_object(), "error");
  } catch (const std::exception&) {
  }
  return {};
}

template <class Stream>
net::awaitable<std::string> fetch(Stream& stream, const agent_config& config, const std::string& target,
                                  const std::string& file, std::size_t max_bytes) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host_header(config.server));
  req.set(http::field::user_agent, std::string("dockmon-agent/") + agent_version);
  auto [write_ec, written] = co_await http::async_write(stream, req, use_tuple);
  if (write_ec) co_return "cannot send the request to " + config.server.describe() + ": " + write_ec.message();

  http::response_parser<http::file_body> parser;
  parser.body_limit(max_bytes);
  beast::error_code open_ec;
  parser.get().body().open(file.c_str(), beast::file_mode::write, open_ec);
  if (open_ec) co_return "cannot create " + file + ": " + open_ec.message();
  beast::flat_buffer buffer;
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  parser.get().body().close();
  if (read_ec == http::error::body_limit) co_return "the build is larger than " + std::to_string(max_bytes >> 20) + " MiB";
  if (read_ec) co_return "the download broke off: " + read_ec.message();
  if (parser.get().result() != http::status::ok) {
    const auto why = error_in(file);
    co_return "the server answered " + std::to_string(parser.get().result_int()) + (why.empty() ? "" : ": " + why);
  }
  co_return std::string();
}

}  // namespace

std::optional<std::string> server_target(const server_url& server, std::string_view binary_url) {
  if (binary_url.starts_with("/") && !binary_url.starts_with("//")) {
    if (!plain_path(binary_url)) return std::nullopt;
    const auto prefix = std::string_view(server.target).substr(0, server.target.size() - socket_path.size());
    return std::string(prefix) + std::string(binary_url);
  }
  const auto scheme_end = binary_url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto path_start = binary_url.find('/', scheme_end + 3);
  const auto path = path_start == std::string_view::npos ? std::string_view("/") : binary_url.substr(path_start);
  server_url named;
  try {
    named = parse_server_url(binary_url.substr(0, path_start));
  } catch (const config_error&) {
    return std::nullopt;
  }
  if (named.tls != server.tls || named.host != server.host || named.port != server.port || !plain_path(path))
    return std::nullopt;
  return std::string(path);
}

net::awaitable<std::string> download_build(net::any_io_executor ex, const agent_config& config, std::string target,
                                           std::string file, download_limits limits) {
  auto dial = co_await connect_to_server(ex, config.server);
  if (!dial.stream) co_return dial.error;
  std::string error;
  if (!config.server.tls) {
    dial.stream->expires_after(limits.timeout);
    error = co_await fetch(*dial.stream, config, target, file, limits.max_bytes);
  } else {
    // A context of its own for the one download: the connection's lives in the connection.
    auto tls = make_client_tls(config);
    beast::ssl_stream<beast::tcp_stream> stream(std::move(*dial.stream), tls);
    error = co_await secure_handshake(stream, config);
    if (error.empty()) {
      beast::get_lowest_layer(stream).expires_after(limits.timeout);
      error = co_await fetch(stream, config, target, file, limits.max_bytes);
    }
  }
  if (!error.empty()) {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
  }
  co_return error;
}

}  // namespace dockmon::agent
