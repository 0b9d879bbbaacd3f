// Signatures of agent builds: what verifies, and everything that must not.
#include "dockmon/common/signing.hpp"

#include "dockmon/common/crypto.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace dockmon;
using namespace dockmon::signing;

namespace {

const std::string digest = sha256_hex("agent build bytes");

}  // namespace

TEST(signing, a_signed_statement_verifies_with_the_public_key) {
  auto key = secret_key::generate();
  const auto statement = build_statement("0.2.0", "amd64", digest);
  const auto signature = key.sign(statement);
  EXPECT_EQ(signature.size(), 88u);
  EXPECT_TRUE(well_formed_signature(signature));
  EXPECT_FALSE(well_formed_signature(signature.substr(4)));
  EXPECT_TRUE(key.public_part().verifies(statement, signature));
}

TEST(signing, the_statement_names_version_arch_and_digest) {
  EXPECT_EQ(build_statement("0.2.0", "arm64", "ab12"), "dockmon-agent-build v1\nversion=0.2.0\narch=arm64\nsha256=ab12\n");
}

TEST(signing, a_signature_proves_nothing_about_another_version_arch_or_digest) {
  auto key = secret_key::generate();
  const auto signature = key.sign(build_statement("0.2.0", "amd64", digest));
  const auto pub = key.public_part();
  EXPECT_FALSE(pub.verifies(build_statement("0.3.0", "amd64", digest), signature));
  EXPECT_FALSE(pub.verifies(build_statement("0.2.0", "arm64", digest), signature));
  EXPECT_FALSE(pub.verifies(build_statement("0.2.0", "amd64", sha256_hex("other bytes")), signature));
}

TEST(signing, an_image_signature_and_a_build_signature_never_stand_for_each_other) {
  EXPECT_EQ(image_statement("0.2.0", "amd64", "ab12"), "dockmon-agent-image v1\nversion=0.2.0\narch=amd64\ndigest=sha256:ab12\n");
  auto key = secret_key::generate();
  const auto pub = key.public_part();
  EXPECT_FALSE(pub.verifies(image_statement("0.2.0", "amd64", digest), key.sign(build_statement("0.2.0", "amd64", digest))));
  EXPECT_FALSE(pub.verifies(build_statement("0.2.0", "amd64", digest), key.sign(image_statement("0.2.0", "amd64", digest))));
  EXPECT_TRUE(pub.verifies(image_statement("0.2.0", "amd64", digest), key.sign(image_statement("0.2.0", "amd64", digest))));
}

TEST(signing, another_key_or_a_damaged_signature_does_not_verify) {
  auto key = secret_key::generate();
  auto other = secret_key::generate();
  const auto statement = build_statement("0.2.0", "amd64", digest);
  auto signature = key.sign(statement);
  EXPECT_FALSE(other.public_part().verifies(statement, signature));
  for (auto bad : {std::string(), std::string("not base64!"), signature.substr(0, 40), signature + "AAAA"}) {
    EXPECT_FALSE(key.public_part().verifies(statement, bad)) << bad;
  }
  signature[10] = signature[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(key.public_part().verifies(statement, signature));
}

TEST(signing, public_keys_parse_only_from_32_bytes_of_base64) {
  auto key = secret_key::generate();
  const auto text = key.public_part().base64();
  EXPECT_EQ(text.size(), 44u);
  auto parsed = public_key::parse(text + "\n");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->base64(), text);
  EXPECT_FALSE(public_key::parse("").has_value());
  EXPECT_FALSE(public_key::parse("c2hvcnQ=").has_value());
  EXPECT_FALSE(public_key::parse(text.substr(0, 43) + "!").has_value());
}

TEST(signing, key_files_round_trip_and_strangers_are_refused_by_name) {
  auto key = secret_key::generate();
  const auto statement = build_statement("1", "amd64", digest);
  auto back = secret_key::from_file_text(key.file_text(), "k");
  EXPECT_EQ(back.public_part().base64(), key.public_part().base64());
  EXPECT_TRUE(key.public_part().verifies(statement, back.sign(statement)));
  try {
    secret_key::from_file_text("-----BEGIN PRIVATE KEY-----\nabc\n", "/keys/agent-signing.key");
    FAIL() << "a PEM file was taken for a signing key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/keys/agent-signing.key is not a DockMon agent signing key"), std::string::npos);
  }
  EXPECT_THROW(secret_key::from_file_text("dockmon-agent-signing-key v1\nAAAA\n", "k"), std::runtime_error);
}
