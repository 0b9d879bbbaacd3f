// The self-update's checks before anything changes: the payload, where a build may come from, the
// SHA-256 and the operator's signature, and when an agent refuses to update itself at all.
#include "updates/self_update.hpp"

#include "updates/build_download.hpp"
#include "commands/dispatcher.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"
#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace dockmon;
using namespace dockmon::agent;

namespace {

class self_update_test : public ::testing::Test {
 protected:
  void SetUp() override {
    build_ = dir_ + "/agent.new";
    write_file_atomically(build_, "the bytes of build 0.2.0", 0700);
    digest_ = sha256_file_hex(build_);
    config_.server = parse_server_url("https://dockmon.example.com:8443/prefix");
  }

  json::object payload() const {
    return json::object{{"version", "0.2.0"},
                        {"binary_url", "/api/agent-builds/download/tk_1-2"},
                        {"checksum", digest_},
                        {"signature", key_.sign(signing::build_statement("0.2.0", "amd64", digest_))}};
  }
  self_update_request request() const { return *parse_self_update_payload(payload(), config_.server).request; }

  // A self-updater for an agent whose binary is in this test's folder.
  std::string unavailable(agent_config::run_mode mode, bool with_key) {
    config_.mode = mode;
    if (with_key) config_.update_key = key_.public_part();
    net::io_context ioc;
    self_updater updater(ioc.get_executor(), config_, update_files::in(dir_, dir_ + "/dockmon-agent"), {}, nullptr,
                         [](std::string) {}, [] { return false; });
    return updater.unavailable();
  }

  test::temp_dir folder_{"dockmon-selfupdate"};
  const std::string dir_ = folder_.path();
  std::string build_;
  std::string digest_;
  signing::secret_key key_ = signing::secret_key::generate();
  agent_config config_;
};

}  // namespace

TEST_F(self_update_test, a_well_formed_payload_names_a_path_under_the_servers_prefix) {
  auto parsed = parse_self_update_payload(payload(), config_.server);
  ASSERT_TRUE(parsed.request) << parsed.error;
  EXPECT_EQ(parsed.request->version, "0.2.0");
  EXPECT_EQ(parsed.request->target, "/prefix/api/agent-builds/download/tk_1-2");
  EXPECT_EQ(parsed.request->checksum, digest_);
}

TEST_F(self_update_test, builds_come_from_the_agents_own_server_only) {
  const auto& server = config_.server;
  EXPECT_EQ(server_target(server, "https://dockmon.example.com:8443/api/agent-builds/download/x"),
            "/api/agent-builds/download/x");
  EXPECT_FALSE(server_target(server, "https://evil.example.com:8443/api/x"));
  EXPECT_FALSE(server_target(server, "https://dockmon.example.com/api/x")) << "another port";
  EXPECT_FALSE(server_target(server, "http://dockmon.example.com:8443/api/x")) << "not over TLS";
  EXPECT_FALSE(server_target(server, "//evil.example.com/api/x"));
  EXPECT_FALSE(server_target(server, "ftp://dockmon.example.com:8443/x"));
  EXPECT_FALSE(server_target(server, "/api/with space"));
  EXPECT_FALSE(server_target(server, ""));
}

TEST_F(self_update_test, malformed_payloads_are_refused_naming_the_field) {
  const std::pair<const char*, json::value> broken[] = {
      {"version", "../../etc"}, {"binary_url", "http://169.254.169.254/latest"}, {"checksum", "abc"}, {"signature", nullptr}};
  for (const auto& [field, value] : broken) {
    auto p = payload();
    p[field] = value;
    auto parsed = parse_self_update_payload(p, config_.server);
    EXPECT_FALSE(parsed.request) << field;
    EXPECT_NE(parsed.error.find(field), std::string::npos) << parsed.error;
  }
  auto unsigned_build = payload();
  unsigned_build.erase("signature");
  EXPECT_NE(parse_self_update_payload(unsigned_build, config_.server).error.find("not signed"), std::string::npos);
}

TEST_F(self_update_test, the_signed_build_verifies) {
  EXPECT_EQ(verify_build(build_, request(), key_.public_part(), "amd64"), "");
}

TEST_F(self_update_test, a_build_whose_bytes_differ_from_the_checksum_is_refused) {
  write_file_atomically(build_, "the bytes of build 0.2.0, altered on the way", 0700);
  EXPECT_NE(verify_build(build_, request(), key_.public_part(), "amd64").find("checksum mismatch"), std::string::npos);
}

TEST_F(self_update_test, a_build_signed_by_another_key_or_for_another_version_or_arch_is_refused) {
  auto stranger = signing::secret_key::generate();
  EXPECT_NE(verify_build(build_, request(), stranger.public_part(), "amd64").find("signature does not verify"), std::string::npos);
  EXPECT_NE(verify_build(build_, request(), key_.public_part(), "arm64").find("signature does not verify"), std::string::npos);
  auto relabelled = request();
  relabelled.version = "9.9.9";
  EXPECT_NE(verify_build(build_, relabelled, key_.public_part(), "amd64").find("signature does not verify"), std::string::npos);
}

TEST_F(self_update_test, an_agent_without_a_key_or_in_a_container_refuses_to_update_itself) {
  EXPECT_NE(unavailable(agent_config::run_mode::native, false).find("no update key installed"), std::string::npos);
  EXPECT_NE(unavailable(agent_config::run_mode::container, true).find("runs in a container"), std::string::npos);
  EXPECT_EQ(unavailable(agent_config::run_mode::native, true), "");
}

TEST_F(self_update_test, the_dispatcher_refuses_with_the_reason_and_registers_without_the_capability) {
  net::io_context ioc;
  docker::client unused(ioc.get_executor(), docker::parse_docker_host("unix:///nonexistent.sock"));
  self_updater updater(ioc.get_executor(), config_, update_files::in(dir_, dir_ + "/dockmon-agent"), {}, nullptr,
                       [](std::string) {}, [] { return false; });
  dispatcher d(unused, "", {}, nullptr, nullptr, &updater);
  EXPECT_EQ(d.capabilities().at("self_update"), false);

  protocol::server_message msg;
  msg.type = protocol::server_message::kind::command;
  msg.cmd = protocol::command{"c1", "self_update", payload()};
  std::optional<json::object> reply;
  net::co_spawn(ioc, d.handle(msg), [&](std::exception_ptr e, std::optional<json::object> r) {
    if (e) std::rethrow_exception(e);
    reply = std::move(r);
  });
  ioc.run();
  ASSERT_TRUE(reply);
  EXPECT_NE(std::string(reply->at("error").as_string()).find("no update key installed"), std::string::npos);
}

TEST_F(self_update_test, a_read_only_host_keeps_its_agent) {
  config_.update_key = key_.public_part();
  config_.mode = agent_config::run_mode::native;
  net::io_context ioc;
  docker::client unused(ioc.get_executor(), docker::parse_docker_host("unix:///nonexistent.sock"));
  self_updater updater(ioc.get_executor(), config_, update_files::in(dir_, dir_ + "/dockmon-agent"), {}, nullptr,
                       [](std::string) {}, [] { return false; });
  ASSERT_EQ(updater.unavailable(), "");
  dispatcher all(unused, "", {}, nullptr, nullptr, &updater);
  EXPECT_EQ(all.capabilities().at("self_update"), true);
  dispatcher read_only(unused, "", allow_list::parse("read_only"), nullptr, nullptr, &updater);
  EXPECT_EQ(read_only.capabilities().at("self_update"), false);
}
