// Attacks on the server's front door, each shown failing: cross-site requests, password guessing,
// oversized input, slow clients; and the headers every answer carries.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::test;

TEST(security, cross_site_requests_cannot_change_anything) {
  test_server server;
  std::string origin_self = "http://127.0.0.1:" + std::to_string(server.port());
  auto forged = server.request(http::verb::post, "/api/agent/generate-token", {},
                               {{"Cookie", server.cookie()}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(forged.status, 403u) << forged.body;
  EXPECT_NE(forged.body.find("cross-site"), std::string::npos);
  auto own = server.request(http::verb::post, "/api/agent/generate-token", {}, {{"Cookie", server.cookie()}, {"Origin", origin_self}});
  EXPECT_EQ(own.status, 201u) << own.body;
  auto login = server.request(http::verb::post, "/api/auth/login", R"({"username":"admin","password":"integration-admin-pw"})",
                              {{"Origin", "http://evil.example"}});
  EXPECT_EQ(login.status, 403u) << "no sign-in from another site's page either";
  EXPECT_EQ(server.request(http::verb::get, "/api/hosts", {}, {{"Cookie", server.cookie()}, {"Origin", "http://evil.example"}}).status,
            200u)
      << "reading is not what SameSite cookies and CORS leave open";
}

TEST(security, password_guessing_is_slowed_down) {
  test_server server;
  unsigned last = 0;
  int attempts = 0;
  while (attempts < 10) {
    ++attempts;
    last = http_request(server.port(), http::verb::post, "/api/auth/login", R"({"username":"admin","password":"guess"})").status;
    if (last != 401) break;
  }
  EXPECT_EQ(last, 429u);
  EXPECT_LE(attempts, 6);
  auto right = http_request(server.port(), http::verb::post, "/api/auth/login",
                            R"({"username":"admin","password":"integration-admin-pw"})");
  EXPECT_EQ(right.status, 429u) << "the right password waits too: guessing must not tell";
}

TEST(security, every_answer_carries_the_security_headers) {
  test_server server;
  for (auto res : {http_request(server.port(), http::verb::get, "/healthz"), http_request(server.port(), http::verb::get, "/api/hosts"),
                   server.get("/api/hosts"), server.get("/nope")}) {
    EXPECT_EQ(res.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(res.headers["x-frame-options"], "DENY");
    EXPECT_NE(res.headers["content-security-policy"].find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(res.headers["referrer-policy"], "no-referrer");
  }
}

TEST(security, oversized_bodies_and_frames_are_refused_without_harm) {
  test_server server;
  {
    // Written by hand: the server answers 413 as soon as the body passes 1 MiB, before we finish sending.
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(10s);
    s.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
    http::request<http::string_body> req{http::verb::post, "/api/api-keys", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::cookie, server.cookie());
    req.body() = std::string(2 * 1024 * 1024, 'x');
    req.prepare_payload();
    error_code write_ec;
    http::write(s, req, write_ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    error_code read_ec;
    http::read(s, buffer, res, read_ec);
    EXPECT_FALSE(read_ec) << read_ec.message() << " (write: " << write_ec.message() << ")";
    EXPECT_EQ(res.result_int(), 413u);
  }

  ws_client agent(server.port());
  agent.send(register_frame(server.registration_token(), "ENGINE:BIGFRAME"));
  ASSERT_TRUE(agent.read_json().has_value());
  try {
    agent.send(std::string(20 * 1024 * 1024, 'x'));  // past the server's 16 MiB frame cap
  } catch (const std::exception&) {
    // The server may close while the frame is still going out.
  }
  EXPECT_FALSE(agent.read(10s).has_value()) << "the connection is closed";
  EXPECT_EQ(http_request(server.port(), http::verb::get, "/healthz").status, 200u) << "and the server is fine";
}

TEST(security, slow_loris_clients_are_cut_off) {
  test_server server;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
  auto start = std::chrono::steady_clock::now();
  std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  net::write(s, net::buffer(partial));
  bool closed = false;
  // One byte a second, never finishing the headers.
  while (std::chrono::steady_clock::now() - start < 45s) {
    error_code ec;
    net::write(s, net::buffer("a", 1), ec);
    if (ec) {
      closed = true;
      break;
    }
    s.non_blocking(true);
    char c;
    auto n = s.read_some(net::buffer(&c, 1), ec);
    s.non_blocking(false);
    if ((ec && ec != net::error::would_block) || n > 0) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(1s);  // the attacker's pace, not a wait for a result
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 35s) << "cut off by the 30 s request deadline";
}
