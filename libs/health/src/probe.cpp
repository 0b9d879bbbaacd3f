// HTTP(S) and TCP probes with Beast, under one deadline each.
#include "dockmon/health/probe.hpp"

#include "dockmon/common/crypto.hpp"

#include <charconv>

namespace dockmon::health {

namespace {

using tcp = net::ip::tcp;
using clock = std::chrono::steady_clock;
using namespace net::experimental::awaitable_operators;

constexpr int max_redirects = 5;
constexpr std::uint32_t max_header_bytes = 16 * 1024;

bool valid_port(std::string_view p) {
  int v = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  return ec == std::errc{} && end == p.data() + p.size() && v >= 1 && v <= 65535;
}

// What one exchange ended with: an answer's status (and Location), or why there was none.
struct answer {
  int status = 0;
  std::string location;
  std::string error;
};

std::string timed_out(const target& t) { return "no answer from " + t.host + ":" + t.port + " in time"; }

net::awaitable<std::variant<tcp::resolver::results_type, std::string>> resolve(net::any_io_executor ex, const target& t,
                                                                                 clock::time_point deadline) {
  tcp::resolver resolver(ex);
  net::steady_timer timer(ex);
  timer.expires_at(deadline);
  auto outcome = co_await (resolver.async_resolve(t.host, t.port, use_tuple) || timer.async_wait(use_tuple));
  if (outcome.index() == 1) co_return timed_out(t);
  auto [ec, results] = std::get<0>(std::move(outcome));
  if (ec) co_return "cannot resolve " + t.host + ": " + ec.message();
  co_return results;
}

template <class Stream>
net::awaitable<answer> request_over(Stream& stream, const target& t, const probe_request& r) {
  http::request<http::empty_body> req{r.method, t.path, 11};
  const bool default_port = (t.scheme == "http" && t.port == "80") || (t.scheme == "https" && t.port == "443");
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  req.set(http::field::host, default_port ? host : host + ":" + t.port);
  req.set(http::field::user_agent, "dockmon-healthcheck/1");
  req.set(http::field::accept, "*/*");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : r.headers) req.set(name, value);
  if (r.method == http::verb::post || r.method == http::verb::put || r.method == http::verb::patch) req.content_length(0);
  answer a;
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  if (wec) {
    a.error = (wec == beast::error::timeout ? timed_out(t) : "cannot send the request: " + wec.message());
    co_return a;
  }
  beast::flat_buffer buffer(max_header_bytes + 4096);
  http::response_parser<http::empty_body> parser;
  parser.header_limit(max_header_bytes);
  parser.skip(r.method == http::verb::head);
  auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (rec) {
    a.error = (rec == beast::error::timeout ? timed_out(t) : "no valid HTTP answer: " + rec.message());
    co_return a;
  }
  a.status = static_cast<int>(parser.get().result_int());
  a.location = std::string(parser.get()[http::field::location]);
  co_return a;
}

// Resolves `location` against the URL it came from.
std::string follow(const target& from, std::string_view location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return std::string(location);
  const std::string origin = from.scheme + "://" + (from.host.find(':') != std::string::npos ? "[" + from.host + "]" : from.host) + ":" + from.port;
  if (location.starts_with("//")) return from.scheme + ":" + std::string(location);
  if (location.starts_with("/")) return origin + std::string(location);
  auto base = from.path.substr(0, from.path.find('?'));
  return origin + base.substr(0, base.rfind('/') + 1) + std::string(location);
}

}  // namespace

std::optional<target> parse_target(std::string_view url) {
  target t;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  t.scheme = std::string(url.substr(0, scheme_end));
  if (t.scheme != "http" && t.scheme != "https" && t.scheme != "tcp") return std::nullopt;
  auto rest = url.substr(scheme_end + 3);
  auto path_at = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_at);
  t.path = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (t.path.front() == '?') t.path.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // credentials go in auth_config_json
  std::string_view port;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    t.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (t.host.empty() || t.host.find_first_of(" /\\") != std::string::npos) return std::nullopt;
  if (port.empty()) {
    if (t.scheme == "tcp") return std::nullopt;
    port = t.scheme == "https" ? "443" : "80";
  }
  if (!valid_port(port)) return std::nullopt;
  t.port = std::string(port);
  return t;
}

probe_request request_of(const protocol::health_check_config& c) {
  probe_request r;
  r.url = c.url;
  r.method = http::string_to_verb(c.method);
  if (r.method == http::verb::unknown) r.method = http::verb::get;
  r.timeout = std::chrono::seconds(c.timeout_seconds);
  r.follow_redirects = c.follow_redirects;
  r.verify_tls = c.verify_ssl;
  r.codes = protocol::parse_status_codes(c.expected_status_codes).value_or(protocol::status_codes{{{200, 200}}});
  error_code ec;
  if (!c.headers_json.empty()) {
    auto headers = json::parse(c.headers_json, ec);
    if (!ec && headers.is_object())
      for (const auto& [name, value] : headers.as_object())
        if (value.is_string()) r.headers.emplace_back(std::string(name), std::string(value.as_string()));
  }
  if (!c.auth_config_json.empty()) {
    auto auth = json::parse(c.auth_config_json, ec);
    if (!ec && auth.is_object()) {
      const auto& o = auth.as_object();
      auto text = [&o](const char* key) { return o.contains(key) && o.at(key).is_string() ? std::string(o.at(key).as_string()) : std::string(); };
      if (text("type") == "basic") r.headers.emplace_back("Authorization", "Basic " + base64_encode(text("username") + ":" + text("password")));
      if (text("type") == "bearer") r.headers.emplace_back("Authorization", "Bearer " + text("token"));
    }
  }
  return r;
}

ssl::context& prober::tls(bool verify) {
  auto& slot = verify ? verifying_ : trusting_;
  if (!slot) {
    slot.emplace(ssl::context::tls_client);
    slot->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (verify) {
      slot->set_default_verify_paths();
      slot->set_verify_mode(ssl::verify_peer);
    } else {
      slot->set_verify_mode(ssl::verify_none);
    }
  }
  return *slot;
}

net::awaitable<probe_outcome> prober::run(const probe_request& r) {
  const auto start = clock::now();
  const auto deadline = start + r.timeout;
  probe_outcome out;
  std::string url = r.url;
  for (int hop = 0;; ++hop) {
    auto t = parse_target(url);
    if (!t) {
      out.error = "not an address a check can reach: " + url.substr(0, 200);
      break;
    }
    auto resolved = co_await resolve(executor_, *t, deadline);
    if (resolved.index() == 1) {
      out.error = std::get<1>(std::move(resolved));
      break;
    }
    beast::tcp_stream stream(executor_);
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(std::get<0>(resolved), use_tuple);
    if (cec) {
      out.error = cec == beast::error::timeout ? timed_out(*t) : "cannot connect to " + t->host + ":" + t->port + ": " + cec.message();
      break;
    }
    if (t->scheme == "tcp") {
      out.healthy = true;
      break;
    }
    answer a;
    if (t->scheme == "https") {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), tls(r.verify_tls));
      // SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.
      SSL_ctrl(secure.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(t->host.c_str()));
      if (r.verify_tls) secure.set_verify_callback(ssl::host_name_verification(t->host));
      auto [hec] = co_await secure.async_handshake(ssl::stream_base::client, use_tuple);
      if (hec) {
        out.error = hec == beast::error::timeout ? timed_out(*t) : "TLS with " + t->host + " failed: " + hec.message();
        break;
      }
      a = co_await request_over(secure, *t, r);
    } else {
      a = co_await request_over(stream, *t, r);
    }
    if (!a.error.empty()) {
      out.error = std::move(a.error);
      break;
    }
    out.status_code = a.status;
    const bool redirect = a.status == 301 || a.status == 302 || a.status == 303 || a.status == 307 || a.status == 308;
    if (redirect && r.follow_redirects && !r.codes.accepts(a.status) && !a.location.empty()) {
      if (hop == max_redirects) {
        out.error = "more than 5 redirects";
        break;
      }
      url = follow(*t, a.location);
      continue;
    }
    out.healthy = r.codes.accepts(a.status);
    if (!out.healthy) out.error = "status " + std::to_string(a.status) + " is not one of the expected codes";
    break;
  }
  out.response_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count();
  co_return out;
}

}  // namespace dockmon::health
