// The server's choice of TLS: plain on loopback, a kept self-signed pair elsewhere, the operator's files.
#include "http/tls_setup.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace dockmon;
using namespace dockmon::server;
namespace fs = std::filesystem;

namespace {
struct temp_dir {
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "dockmon-tls-setup-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~temp_dir() { fs::remove_all(path); }
  std::string path;
};

server_config config_in(const std::string& dir, const std::string& host) {
  server_config c;
  c.data_dir = dir;
  c.listen = host_port{host, 8443};
  return c;
}
}  // namespace

TEST(server_tls, loopback_is_plain_and_other_addresses_get_a_kept_self_signed_pair) {
  temp_dir d;
  EXPECT_FALSE(make_server_tls(config_in(d.path, "127.0.0.1")).context);
  EXPECT_FALSE(make_server_tls(config_in(d.path, "::1")).context);
  EXPECT_FALSE(fs::exists(d.path + "/tls"));

  auto first = make_server_tls(config_in(d.path, "0.0.0.0"));
  ASSERT_TRUE(first.context);
  EXPECT_EQ(first.generated_cert, d.path + "/tls/server.crt");
  EXPECT_EQ(first.public_key_pin.rfind("sha256//", 0), 0u);
  EXPECT_FALSE(first.agents_need_client_cert);
  // A restart reuses the pair, so pins given to agents stay valid.
  EXPECT_EQ(make_server_tls(config_in(d.path, "0.0.0.0")).public_key_pin, first.public_key_pin);

  auto forced_off = config_in(d.path, "0.0.0.0");
  forced_off.tls = server_config::tls_mode::off;
  EXPECT_FALSE(make_server_tls(forced_off).context);
  auto forced_on = config_in(d.path, "127.0.0.1");
  forced_on.tls = server_config::tls_mode::on;
  EXPECT_TRUE(make_server_tls(forced_on).context);
}

TEST(server_tls, bad_files_and_contradictions_name_the_setting) {
  temp_dir d;
  auto missing = config_in(d.path, "127.0.0.1");
  missing.tls_cert = d.path + "/nope.crt";
  missing.tls_key = d.path + "/nope.key";
  try {
    make_server_tls(missing);
    FAIL() << "a missing certificate was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "--tls-cert/DOCKMON_TLS_CERT");
  }
  auto no_tls_but_client_ca = config_in(d.path, "127.0.0.1");
  no_tls_but_client_ca.client_ca = d.path + "/ca.pem";
  EXPECT_THROW(make_server_tls(no_tls_but_client_ca), config_error);
  // A key that is not the certificate's.
  auto on = config_in(d.path, "0.0.0.0");
  auto made = make_server_tls(on);
  auto other = d.path + "/other";
  auto second = config_in(other, "0.0.0.0");
  make_server_tls(second);
  auto mismatched = config_in(d.path, "0.0.0.0");
  mismatched.tls_cert = made.generated_cert;
  mismatched.tls_key = other + "/tls/server.key";
  try {
    make_server_tls(mismatched);
    FAIL() << "a mismatched key was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "--tls-key/DOCKMON_TLS_KEY");
  }
}
