#include "dockmon/common/crypto.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace dockmon;

TEST(crypto, random_tokens_are_long_url_safe_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = random_token();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(crypto, sha256_matches_known_vector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(crypto, password_hash_is_argon2id_and_verifies_only_the_password) {
  auto h = hash_password("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct hors"));
  EXPECT_FALSE(verify_password("not a hash", "x"));
}

TEST(crypto, uuid_has_canonical_form) {
  auto u = random_uuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_EQ(u[8], '-');
}
