#include "dockmon/common/env.hpp"
#include "dockmon/common/tls.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sys/stat.h>

using namespace dockmon;
namespace fs = std::filesystem;

namespace {
std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

struct temp_dir {
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "dockmon-tls-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~temp_dir() { fs::remove_all(path); }
  std::string path;
};
}  // namespace

TEST(tls, self_signed_certificate_has_the_names_and_a_private_key) {
  temp_dir d;
  const auto cert = d.path + "/tls/server.crt";
  const auto key = d.path + "/tls/server.key";
  tls::write_self_signed(cert, key, {"dockmon.example", "127.0.0.1", "::1"});
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  // The openssl CLI is the independent witness: it parses what we wrote and finds the names.
  const auto text = run("openssl x509 -noout -text -in " + cert);
  EXPECT_NE(text.find("DNS:dockmon.example"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:127.0.0.1"), std::string::npos);
  EXPECT_NE(text.find("IP Address:0:0:0:0:0:0:0:1"), std::string::npos);
  EXPECT_NE(run("openssl verify -CAfile " + cert + " " + cert + " 2>&1").find(": OK"), std::string::npos);
  EXPECT_NE(run("openssl pkey -in " + key + " -noout -text 2>&1").find("prime256v1"), std::string::npos);
}

TEST(tls, public_key_pin_matches_curls_recipe) {
  temp_dir d;
  const auto cert = d.path + "/c.pem";
  tls::write_self_signed(cert, d.path + "/k.pem", {"localhost"});
  // curl's documented way to compute a --pinnedpubkey value.
  auto expected = run("openssl x509 -in " + cert +
                      " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
  while (!expected.empty() && expected.back() == '\n') expected.pop_back();
  EXPECT_EQ(tls::public_key_pin_of_file(cert), "sha256//" + expected);
  // A new pair has a new key and so a new pin.
  tls::write_self_signed(cert, d.path + "/k.pem", {"localhost"});
  EXPECT_NE(tls::public_key_pin_of_file(cert), "sha256//" + expected);
  EXPECT_THROW(tls::public_key_pin_of_file(d.path + "/missing.pem"), std::runtime_error);
}

TEST(tls, pins_are_parsed_as_curl_takes_them) {
  const std::string a = "sha256//" + std::string(43, 'A') + "=";
  const std::string b = "sha256//" + std::string(43, 'B') + "=";
  EXPECT_EQ(tls::parse_pins("PIN", a), std::vector<std::string>{a});
  EXPECT_EQ(tls::parse_pins("PIN", a + "; " + b), (std::vector<std::string>{a, b}));
  for (const auto* bad : {"", ";", "sha1//AAAA", "sha256//", "sha256//AAAA", "sha256//not base64 at all!!!!!!!!!!!!!!!!!!!!!="}) {
    EXPECT_THROW(tls::parse_pins("PIN", bad), config_error) << bad;
  }
  try {
    tls::parse_pins("DOCKMON_PINNED_PUBKEY", "md5//x");
    FAIL() << "an md5 pin was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "DOCKMON_PINNED_PUBKEY");
  }
}
