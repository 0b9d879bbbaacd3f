// TLS end to end: the server's own or self-signed certificate, agents that trust only what they were
// told to (system CAs, a CA file, a pinned key), and agents that must show a client certificate.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

void openssl(const std::string& args) {
  auto r = shell("openssl " + args + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << "openssl " << args << "\n" << r.output;
}

// A CA in `dir`/<name>-ca.pem and a certificate it signed (<name>.pem, <name>-key.pem) for 127.0.0.1.
void make_ca_and_leaf(const std::string& dir, const std::string& name, const std::string& usage) {
  const auto p = dir + "/" + name;
  openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + name + "-ca -keyout " +
          p + "-ca-key.pem -out " + p + "-ca.pem");
  openssl("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 -keyout " + p + "-key.pem -out " +
          p + ".csr");
  std::ofstream(p + ".ext") << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=" << usage << "\n";
  openssl("x509 -req -days 2 -in " + p + ".csr -CA " + p + "-ca.pem -CAkey " + p + "-ca-key.pem -CAcreateserial -out " +
          p + ".pem -extfile " + p + ".ext");
}

// True when the agent registered with this server within the deadline.
bool registers(test_server& server, std::chrono::milliseconds timeout = 15s) {
  return server.wait_for_engine(engine_id(), timeout).has_value();
}

bool log_shows(test_agent& agent, const std::string& text, std::chrono::milliseconds timeout = 15s) {
  return wait_until([&] { return agent.log().find(text) != std::string::npos; }, timeout);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(tls, self_signed_server_is_trusted_by_its_pinned_key_only) {
  test_server server(env_map{{"DOCKMON_TLS", "on"}});
  ASSERT_TRUE(server.tls());
  ASSERT_EQ(server.public_key_pin().rfind("sha256//", 0), 0U) << server.proc().log();
  const auto cert = server.data_dir() + "/tls/server.crt";
  ASSERT_TRUE(std::filesystem::exists(cert));
  EXPECT_EQ(std::filesystem::status(server.data_dir() + "/tls/server.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // Not a CA: a leaked key of it cannot sign certificates for other names.
  const auto text = shell("openssl x509 -in " + cert + " -noout -text").output;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  EXPECT_EQ(text.find("Certificate Sign"), std::string::npos) << text;
  const auto token = server.registration_token();

  {
    // The system CAs do not know a self-signed certificate: an impostor's would be refused the same way.
    test_agent agent(server.port(), token, {}, {{"DOCKMON_URL", server.url()}});
    EXPECT_TRUE(log_shows(agent, "certificate verify failed")) << agent.log();
  }
  {
    // Another key than the pinned one: refused after the handshake, before any token is sent.
    test_agent agent(server.port(), token, {},
                     {{"DOCKMON_URL", server.url()}, {"DOCKMON_PINNED_PUBKEY", "sha256//" + std::string(43, 'A') + "="}});
    EXPECT_TRUE(log_shows(agent, "which is not in DOCKMON_PINNED_PUBKEY")) << agent.log();
    EXPECT_EQ(agent.log().find("registered"), std::string::npos);
  }
  EXPECT_TRUE(server.hosts().empty());

  // The pin survives a restart: the pair is kept in the data folder.
  const auto pin = server.public_key_pin();
  server.restart({{"DOCKMON_TLS", "on"}});
  EXPECT_EQ(server.public_key_pin(), pin);
  {
    // The file itself, named as the agent's trust store, still verifies the server.
    test_agent agent(server.port(), token, {}, {{"DOCKMON_URL", server.url()}, {"DOCKMON_CA_FILE", cert}});
    EXPECT_TRUE(registers(server)) << agent.log();
  }
  ASSERT_EQ(server.hosts().size(), 1u);
  const std::string host_id(server.hosts()[0].at("id").as_string());
  ASSERT_TRUE(server.wait_for_host(host_id, "offline"));
  auto minted = server.post("/api/hosts/" + host_id + "/reattach-token");
  ASSERT_EQ(minted.status, 201u) << minted.body;
  test_agent agent(server.port(), std::string(minted.json().at("token").as_string()), {},
                   {{"DOCKMON_URL", server.url()}, {"DOCKMON_PINNED_PUBKEY", pin}});
  EXPECT_TRUE(server.wait_for_host(host_id, "online")) << agent.log();
}

TEST(tls, agent_verifies_the_server_against_its_ca_file) {
  const auto dir = make_temp_dir("dockmon-it-tls");
  make_ca_and_leaf(dir, "server", "serverAuth");
  make_ca_and_leaf(dir, "other", "serverAuth");
  test_server server(env_map{{"DOCKMON_TLS_CERT", dir + "/server.pem"}, {"DOCKMON_TLS_KEY", dir + "/server-key.pem"}});
  ASSERT_TRUE(server.tls());
  // The printed pin is the served certificate's, computed the way curl documents.
  auto expected = shell("openssl x509 -in " + dir + "/server.pem -pubkey -noout | openssl pkey -pubin -outform der | "
                        "openssl dgst -sha256 -binary | base64").output;
  expected.erase(expected.find_last_not_of("\n") + 1);
  EXPECT_EQ(server.public_key_pin(), "sha256//" + expected);
  const auto token = server.registration_token();
  {
    test_agent agent(server.port(), token, {}, {{"DOCKMON_URL", server.url()}, {"DOCKMON_CA_FILE", dir + "/other-ca.pem"}});
    EXPECT_TRUE(log_shows(agent, "certificate verify failed")) << agent.log();
  }
  EXPECT_TRUE(server.hosts().empty());
  test_agent agent(server.port(), token, {}, {{"DOCKMON_URL", server.url()}, {"DOCKMON_CA_FILE", dir + "/server-ca.pem"}});
  EXPECT_TRUE(registers(server)) << agent.log();
  std::filesystem::remove_all(dir);
}

TEST(tls, session_cookie_is_secure_over_tls) {
  test_server server(env_map{{"DOCKMON_TLS", "on"}});
  auto res = server.request(http::verb::get, "/api/auth/me", {}, {{"Cookie", server.cookie()}});
  EXPECT_EQ(res.status, 200U) << res.body;
  // Sign in again to read the cookie's attributes.
  auto login = https_request(server.port(), http::verb::post, "/api/auth/login",
                             R"({"username":"admin","password":")" + std::string(test_admin_password) + R"("})");
  ASSERT_EQ(login.status, 200U) << login.body;
  EXPECT_NE(login.headers["set-cookie"].find("; Secure"), std::string::npos) << login.headers["set-cookie"];
  EXPECT_EQ(login.headers["strict-transport-security"], "max-age=31536000") << "browsers never try plain HTTP again";
  // Plain HTTP on a TLS port is not answered as HTTP.
  EXPECT_ANY_THROW(http_request(server.port(), http::verb::get, "/healthz", {}, {}, 5s));
}

TEST(tls, agents_must_show_a_client_certificate_when_the_server_asks) {
  const auto dir = make_temp_dir("dockmon-it-mtls");
  make_ca_and_leaf(dir, "agent", "clientAuth");
  make_ca_and_leaf(dir, "rogue", "clientAuth");
  test_server server(env_map{{"DOCKMON_TLS", "on"}, {"DOCKMON_CLIENT_CA", dir + "/agent-ca.pem"}});
  const auto pin = server.public_key_pin();
  const auto token = server.registration_token();
  // Browsers have no client certificate and still reach the API.
  EXPECT_EQ(https_request(server.port(), http::verb::get, "/healthz").status, 200U);
  {
    test_agent agent(server.port(), token, {}, {{"DOCKMON_URL", server.url()}, {"DOCKMON_PINNED_PUBKEY", pin}});
    EXPECT_TRUE(log_shows(agent, "HTTP 403 {\"error\":\"agents must present a client certificate")) << agent.log();
  }
  {
    test_agent agent(server.port(), token, {},
                     {{"DOCKMON_URL", server.url()}, {"DOCKMON_PINNED_PUBKEY", pin},
                      {"DOCKMON_CLIENT_CERT", dir + "/rogue.pem"}, {"DOCKMON_CLIENT_KEY", dir + "/rogue-key.pem"}});
    EXPECT_TRUE(log_shows(agent, "alert unknown ca")) << agent.log();
    EXPECT_EQ(agent.log().find("HTTP 500"), std::string::npos) << "no HTTP answer is made up for a TLS failure";
    EXPECT_FALSE(registers(server, 3s));
  }
  EXPECT_TRUE(server.hosts().empty());
  test_agent agent(server.port(), token, {},
                   {{"DOCKMON_URL", server.url()}, {"DOCKMON_PINNED_PUBKEY", pin},
                    {"DOCKMON_CLIENT_CERT", dir + "/agent.pem"}, {"DOCKMON_CLIENT_KEY", dir + "/agent-key.pem"}});
  EXPECT_TRUE(registers(server)) << agent.log();
  std::filesystem::remove_all(dir);
}

TEST(tls, skipping_verification_is_warned_about_at_every_connect) {
  test_server server(env_map{{"DOCKMON_TLS", "on"}});
  test_agent agent(server.port(), server.registration_token(), {},
                   {{"DOCKMON_URL", server.url()}, {"INSECURE_SKIP_VERIFY", "true"}});
  ASSERT_TRUE(registers(server)) << agent.log();
  const std::string warning = "INSECURE_SKIP_VERIFY is set";
  EXPECT_EQ(count_of(agent.log(), warning), 1U);
  server.restart({{"DOCKMON_TLS", "on"}});
  EXPECT_TRUE(wait_until([&] { return count_of(agent.log(), warning) >= 2; }, 20s)) << agent.log();
}
