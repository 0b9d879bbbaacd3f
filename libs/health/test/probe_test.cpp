// Probes against real sockets on loopback: a small HTTP(S) server in the test answers as each case needs.
#include "dockmon/health/probe.hpp"

#include "dockmon/common/tls.hpp"
#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace dockmon;
using namespace dockmon::health;
using namespace std::chrono_literals;
using tcp = net::ip::tcp;

namespace {

// Answers each request with what `reply` makes of it; `silent` accepts and never answers.
struct test_server {
  explicit test_server(net::io_context& io) : ioc(io) {}
  net::io_context& ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::function<http::response<http::string_body>(const http::request<http::string_body>&)> reply;
  std::vector<http::request<http::string_body>> seen;
  ssl::context* tls = nullptr;
  bool silent = false;
  std::vector<std::shared_ptr<tcp::socket>> held;

  std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    seen.push_back(req);
    auto res = reply(req);
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
  }

  net::awaitable<void> run() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      if (silent) {
        held.push_back(std::make_shared<tcp::socket>(std::move(socket)));
        continue;
      }
      if (tls != nullptr) {
        beast::ssl_stream<tcp::socket> secure(std::move(socket), *tls);
        auto [hec] = co_await secure.async_handshake(ssl::stream_base::server, use_tuple);
        if (!hec) co_await serve(secure);
      } else {
        co_await serve(socket);
      }
    }
  }
};

http::response<http::string_body> status(int code, std::string location = {}) {
  http::response<http::string_body> res{static_cast<http::status>(code), 11};
  if (!location.empty()) res.set(http::field::location, location);
  if (code != 204) res.body() = "ok";
  return res;
}

probe_outcome probe(net::io_context& ioc, const probe_request& r) {
  prober p(ioc.get_executor());
  std::optional<probe_outcome> out;
  net::co_spawn(ioc, p.run(r), [&](std::exception_ptr e, probe_outcome o) {
    if (e) std::rethrow_exception(e);
    out = std::move(o);
    ioc.stop();
  });
  ioc.restart();
  ioc.run_for(20s);
  EXPECT_TRUE(out.has_value()) << "the probe never ended";
  return out.value_or(probe_outcome{});
}

probe_request get(std::string url, std::string codes = "200") {
  probe_request r;
  r.url = std::move(url);
  r.timeout = 2s;
  r.codes = *protocol::parse_status_codes(codes);
  return r;
}

}  // namespace

TEST(probe, parse_target_takes_http_https_and_tcp_with_ports_and_paths) {
  auto t = parse_target("http://127.0.0.1:8080/health?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, "8080");
  EXPECT_EQ(t->path, "/health?x=1");
  EXPECT_EQ(parse_target("https://example.test")->port, "443");
  EXPECT_EQ(parse_target("https://example.test")->path, "/");
  EXPECT_EQ(parse_target("http://[::1]:81/x")->host, "::1");
  EXPECT_EQ(parse_target("tcp://db:5432")->port, "5432");
  for (const char* bad : {"tcp://db", "ftp://x/", "http://:80/", "http://x:0/", "http://x:99999/", "http://u:p@x/", "x"})
    EXPECT_FALSE(parse_target(bad)) << bad;
}

TEST(probe, an_expected_status_is_healthy_and_the_request_carries_method_headers_and_auth) {
  net::io_context ioc;
  test_server server(ioc);
  server.reply = [](const auto&) { return status(204); };
  net::co_spawn(ioc, server.run(), net::detached);
  protocol::health_check_config c;
  c.url = "http://127.0.0.1:" + server.port() + "/health";
  c.method = "POST";
  c.expected_status_codes = "200-299";
  c.headers_json = R"({"X-Probe":"yes"})";
  c.auth_config_json = R"({"type":"basic","username":"u","password":"p"})";
  auto out = probe(ioc, request_of(c));
  EXPECT_TRUE(out.healthy) << out.error;
  EXPECT_EQ(out.status_code, 204);
  ASSERT_EQ(server.seen.size(), 1u);
  EXPECT_EQ(server.seen[0].method(), http::verb::post);
  EXPECT_EQ(server.seen[0].target(), "/health");
  EXPECT_EQ(server.seen[0]["X-Probe"], "yes");
  EXPECT_EQ(server.seen[0][http::field::authorization], "Basic dTpw");
}

TEST(probe, another_status_is_unhealthy_and_says_which) {
  net::io_context ioc;
  test_server server(ioc);
  server.reply = [](const auto&) { return status(503); };
  net::co_spawn(ioc, server.run(), net::detached);
  auto out = probe(ioc, get("http://127.0.0.1:" + server.port() + "/"));
  EXPECT_FALSE(out.healthy);
  EXPECT_EQ(out.status_code, 503);
  EXPECT_NE(out.error.find("503"), std::string::npos) << out.error;
}

TEST(probe, redirects_are_followed_at_most_five_times_and_only_when_asked) {
  net::io_context ioc;
  test_server server(ioc);
  server.reply = [](const auto& req) {
    if (req.target() == "/a") return status(302, "/b");
    if (req.target() == "/b") return status(200);
    return status(301, "/loop");
  };
  net::co_spawn(ioc, server.run(), net::detached);
  const auto base = "http://127.0.0.1:" + server.port();
  EXPECT_TRUE(probe(ioc, get(base + "/a")).healthy);
  auto loop = probe(ioc, get(base + "/loop"));
  EXPECT_FALSE(loop.healthy);
  EXPECT_NE(loop.error.find("redirects"), std::string::npos) << loop.error;
  auto not_followed = get(base + "/a");
  not_followed.follow_redirects = false;
  auto out = probe(ioc, not_followed);
  EXPECT_FALSE(out.healthy);
  EXPECT_EQ(out.status_code, 302);
}

TEST(probe, a_server_that_never_answers_ends_by_the_timeout) {
  net::io_context ioc;
  test_server server(ioc);
  server.silent = true;
  net::co_spawn(ioc, server.run(), net::detached);
  auto r = get("http://127.0.0.1:" + server.port() + "/");
  r.timeout = 300ms;
  auto out = probe(ioc, r);
  EXPECT_FALSE(out.healthy);
  EXPECT_NE(out.error.find("in time"), std::string::npos) << out.error;
  EXPECT_GE(out.response_time_ms, 250);
  EXPECT_LT(out.response_time_ms, 2000);
}

TEST(probe, tcp_checks_need_a_port_that_accepts) {
  net::io_context ioc;
  test_server server(ioc);
  server.silent = true;
  net::co_spawn(ioc, server.run(), net::detached);
  EXPECT_TRUE(probe(ioc, get("tcp://127.0.0.1:" + server.port())).healthy);
  tcp::acceptor closed(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto unused = std::to_string(closed.local_endpoint().port());
  closed.close();
  auto refused = probe(ioc, get("tcp://127.0.0.1:" + unused));
  EXPECT_FALSE(refused.healthy);
  EXPECT_NE(refused.error.find("cannot connect"), std::string::npos) << refused.error;
}

TEST(probe, https_checks_verify_the_certificate_unless_told_not_to) {
  dockmon::test::temp_dir dir("probe-tls");
  const auto cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  tls::write_self_signed(cert, key, {"127.0.0.1"});
  ssl::context server_tls(ssl::context::tls_server);
  server_tls.use_certificate_chain_file(cert);
  server_tls.use_private_key_file(key, ssl::context::pem);
  net::io_context ioc;
  test_server server(ioc);
  server.tls = &server_tls;
  server.reply = [](const auto&) { return status(200); };
  net::co_spawn(ioc, server.run(), net::detached);
  auto r = get("https://127.0.0.1:" + server.port() + "/");
  auto verified = probe(ioc, r);
  EXPECT_FALSE(verified.healthy) << "a self-signed certificate is not trusted";
  EXPECT_NE(verified.error.find("TLS"), std::string::npos) << verified.error;
  r.verify_tls = false;
  auto trusted = probe(ioc, r);
  EXPECT_TRUE(trusted.healthy) << trusted.error;
}
