// The permanent token file: sealed to the engine id and machine id, atomic, 0600, and a plain-text file
// from an older agent still read (and resealed).
#include "link/token_file.hpp"

#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace dockmon::agent;

namespace {

// A real token as the server issues them: 43 characters of URL-safe base64.
const std::string token = "q7Zp0-3bYl_XGf1mK9rT2vW8xA4cE6hJ5nL0sD3uB1o";

const host_identity this_host{"WXYZ:ABCD:EFGH:IJKL:MNOP:QRST:UVWX:YZ01:2345:6789:ABCD:EFGH", "4f1c9e2d7a6b4c3e8f0a1b2c3d4e5f60"};

class token_file_test : public ::testing::Test {
 protected:
  std::string contents() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }
  void replace_contents(const std::string& text) const { std::ofstream(path_, std::ios::binary | std::ios::trunc) << text; }

  // The message read_token_file throws, or "" when it does not throw.
  std::string refusal(const token_key& key) const {
    try {
      read_token_file(path_, key);
    } catch (const token_file_error& e) {
      return e.what();
    }
    return "";
  }

  dockmon::test::temp_dir folder_{"dockmon-token"};
  const std::string dir_ = folder_.path();
  const std::string path_ = dir_ + "/permanent_token";
};

}  // namespace

TEST_F(token_file_test, missing_file_is_no_token) {
  EXPECT_FALSE(read_token_file(path_, token_key(this_host)).has_value());
  EXPECT_FALSE(load_token_file(path_, token_key(this_host)).has_value());
}

TEST_F(token_file_test, sealed_round_trip_written_atomically_with_mode_0600) {
  const auto nested = dir_ + "/nested/data/permanent_token";
  const token_key key(this_host);
  write_token_file(nested, "tok_one", key);
  write_token_file(nested, token, key);
  auto back = read_token_file(nested, key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->token, token);
  EXPECT_TRUE(back->sealed);
  struct stat st {};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(nested + ".tmp"));
}

TEST_F(token_file_test, file_holds_no_plain_token_and_a_fresh_nonce_per_write) {
  const token_key key(this_host);
  write_token_file(path_, token, key);
  const auto first = contents();
  EXPECT_EQ(first.rfind("dockmon-sealed-token v1\n", 0), 0u) << first;
  EXPECT_EQ(first.find(token), std::string::npos);
  EXPECT_EQ(first.find(token.substr(0, 8)), std::string::npos);
  write_token_file(path_, token, key);
  EXPECT_NE(contents(), first) << "the same token sealed twice must not give the same file";
}

TEST_F(token_file_test, file_copied_to_another_engine_or_machine_is_refused_with_what_to_do) {
  write_token_file(path_, token, token_key(this_host));
  const auto sealed = contents();
  for (const auto& elsewhere : {host_identity{"OTHER:ENGINE:ID", this_host.machine_id},
                                host_identity{this_host.engine_id, "0000aaaa1111bbbb2222cccc3333dddd"},
                                host_identity{this_host.engine_id, ""}}) {
    const token_key key(elsewhere);
    const auto why = refusal(key);
    EXPECT_NE(why.find("another host or for another Docker engine"), std::string::npos) << why;
    EXPECT_NE(why.find("remove it"), std::string::npos) << why;
    EXPECT_NE(why.find("REGISTRATION_TOKEN"), std::string::npos) << why;
    EXPECT_NE(why.find(path_), std::string::npos) << why;
    // At start the agent logs that and goes on without a stored token; the file is left as it was.
    EXPECT_FALSE(load_token_file(path_, key).has_value());
    EXPECT_EQ(contents(), sealed);
  }
  EXPECT_EQ(read_token_file(path_, token_key(this_host)).value().token, token);
}

TEST_F(token_file_test, ids_are_length_prefixed_in_the_key) {
  write_token_file(path_, token, token_key({"ab", "c"}));
  EXPECT_FALSE(refusal(token_key({"a", "bc"})).empty());
  EXPECT_TRUE(refusal(token_key({"ab", "c"})).empty());
}

TEST_F(token_file_test, tampered_or_truncated_ciphertext_is_refused) {
  const token_key key(this_host);
  write_token_file(path_, token, key);
  const auto sealed = contents();
  const auto body = sealed.find('\n') + 1;

  // One base64 character of the box changed to another valid one: one bit or more of the box differs.
  auto flipped = sealed;
  const auto at = body + 40;
  flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
  replace_contents(flipped);
  EXPECT_NE(refusal(key).find("altered"), std::string::npos) << refusal(key);

  replace_contents(sealed.substr(0, body + 20) + "\n");
  EXPECT_NE(refusal(key).find("damaged"), std::string::npos) << refusal(key);

  replace_contents(sealed.substr(0, body) + "not base64 at all!\n");
  EXPECT_NE(refusal(key).find("damaged"), std::string::npos) << refusal(key);

  replace_contents("dockmon-sealed-token v9\nAAAA\n");
  EXPECT_NE(refusal(key).find("format this agent does not know"), std::string::npos) << refusal(key);
}

TEST_F(token_file_test, legacy_plain_file_is_read_then_resealed_at_load) {
  replace_contents(token + "\n");
  ::chmod(path_.c_str(), 0644);
  const token_key key(this_host);
  auto plain = read_token_file(path_, key);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->token, token);
  EXPECT_FALSE(plain->sealed);

  EXPECT_EQ(load_token_file(path_, key).value(), token);
  EXPECT_EQ(contents().find(token), std::string::npos) << "load must replace the plain text at once";
  auto resealed = read_token_file(path_, key);
  ASSERT_TRUE(resealed.has_value());
  EXPECT_TRUE(resealed->sealed);
  EXPECT_EQ(resealed->token, token);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(token_file_test, garbage_in_the_file_is_an_error_not_a_token) {
  replace_contents("not a token; rm -rf /\n");
  EXPECT_NE(refusal(token_key(this_host)).find("does not hold a valid token"), std::string::npos);
  EXPECT_FALSE(load_token_file(path_, token_key(this_host)).has_value());
  replace_contents(std::string(10000, 'a'));
  EXPECT_FALSE(refusal(token_key(this_host)).empty());
}

TEST_F(token_file_test, machine_id_is_the_first_non_empty_candidate) {
  std::ofstream(dir_ + "/empty") << "\n";
  std::ofstream(dir_ + "/machine-id") << "4f1c9e2d7a6b4c3e8f0a1b2c3d4e5f60\n";
  std::ofstream(dir_ + "/later") << "ffff\n";
  EXPECT_EQ(read_machine_id({dir_ + "/missing", dir_ + "/empty", dir_ + "/machine-id", dir_ + "/later"}),
            "4f1c9e2d7a6b4c3e8f0a1b2c3d4e5f60");
  EXPECT_EQ(read_machine_id({dir_ + "/missing", dir_ + "/empty"}), "");
  EXPECT_EQ(default_machine_id_files().front(), "/host/etc/machine-id");
}
