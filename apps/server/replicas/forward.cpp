// Sending a request on to the replica that holds its host.
#include "replicas/forward.hpp"

#include "replicas/replica_registry.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <charconv>

namespace dockmon::server {

namespace {

// Headers that belong to one connection, not to the request: never passed on.
bool hop_by_hop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

response failure(const request& req, http::status status, std::string message) {
  return route_answers(req).fail(status, message);
}

}  // namespace

host_and_port split_replica_address(std::string_view address) {
  auto rest = address.substr(address.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || rest.ends_with(']')) return {std::string(rest), "80"};
  return {std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

namespace {

constexpr std::string_view vouch_header = "X-DockMon-Vouched-Client";
constexpr auto vouch_lifetime = std::chrono::seconds(30);

}  // namespace

std::string vouch_for(const secret_box& box, const std::string& client, sys_clock::time_point now) {
  return box.seal(std::to_string(unix_seconds(now)) + " " + client);
}

std::optional<std::string> vouched_client(const secret_box& box, const request& req, sys_clock::time_point now) {
  auto header = req.find(vouch_header);
  if (header == req.end()) return std::nullopt;
  auto opened = box.open(header->value());
  if (!opened) return std::nullopt;
  const auto space = opened->find(' ');
  if (space == std::string::npos) return std::nullopt;
  long long made = 0;
  auto [end, ec] = std::from_chars(opened->data(), opened->data() + space, made);
  if (ec != std::errc{} || end != opened->data() + space) return std::nullopt;
  const auto age = unix_seconds(now) - made;
  if (age < -5 || age > vouch_lifetime.count()) return std::nullopt;
  return opened->substr(space + 1);
}

net::awaitable<response> forward_request(net::any_io_executor ex, const request& req, const store::replica_place& to,
                                         const forward_origin& origin, std::chrono::milliseconds timeout) {
  const auto where = split_replica_address(to.address);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  net::ip::tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(where.host, where.port, use_tuple);
  if (rec) {
    co_return failure(req, http::status::bad_gateway,
                      "the server holding this host's agent (" + to.address + ") cannot be found: " + rec.message());
  }
  beast::tcp_stream stream(ex);
  stream.expires_at(deadline);
  auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
  if (cec) {
    if (cec == beast::error::timeout)
      co_return failure(req, http::status::gateway_timeout, "the server holding this host's agent did not answer in time");
    co_return failure(req, http::status::bad_gateway,
                      "the server holding this host's agent (" + to.address + ") cannot be reached: " + cec.message());
  }
  request out{req.method(), req.target(), 11};
  for (const auto& field : req) {
    if (!hop_by_hop(field.name()) && !beast::iequals(field.name_string(), forwarded_header) &&
        !beast::iequals(field.name_string(), vouch_header))
      out.insert(field.name_string(), field.value());
  }
  out.set(forwarded_header, origin.from);
  out.set("X-Forwarded-For", origin.client);
  out.set(vouch_header, origin.vouch);
  out.keep_alive(false);
  out.body() = req.body();
  out.prepare_payload();
  auto [wec, written] = co_await http::async_write(stream, out, use_tuple);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_forwarded_answer);
  error_code ec = wec;
  if (!ec) std::tie(ec, written) = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (ec) {
    spdlog::warn("{} {} sent on to replica {} at {}: {}", std::string(req.method_string()),
                 std::string(req.target().substr(0, 200)), to.replica_id, to.address, ec.message());
    if (ec == beast::error::timeout)
      co_return failure(req, http::status::gateway_timeout, "the server holding this host's agent did not answer in time");
    co_return failure(req, http::status::bad_gateway, "the server holding this host's agent broke off: " + ec.message());
  }
  auto answer = parser.release();
  response relayed{answer.result(), req.version()};
  for (const auto& field : answer) {
    if (!hop_by_hop(field.name())) relayed.insert(field.name_string(), field.value());
  }
  relayed.keep_alive(req.keep_alive());
  relayed.body() = std::move(answer.body());
  relayed.prepare_payload();
  co_return relayed;
}

}  // namespace dockmon::server
