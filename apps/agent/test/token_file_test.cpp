#include "token_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace dockmon::agent;

namespace {
std::string temp_dir() {
  char tmpl[] = "/tmp/dockmon-token-XXXXXX";
  return ::mkdtemp(tmpl);
}
}  // namespace

TEST(token_file, missing_file_is_no_token) {
  auto dir = temp_dir();
  EXPECT_FALSE(read_token_file(dir + "/permanent_token").has_value());
  std::filesystem::remove_all(dir);
}

TEST(token_file, written_atomically_with_mode_0600_and_read_back) {
  auto dir = temp_dir() + "/nested/data";
  auto path = dir + "/permanent_token";
  write_token_file(path, "tok_one");
  write_token_file(path, "tok_two");
  EXPECT_EQ(read_token_file(path).value(), "tok_two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path().parent_path());
}

TEST(token_file, garbage_in_the_file_is_an_error_not_a_token) {
  auto dir = temp_dir();
  auto path = dir + "/permanent_token";
  std::ofstream(path) << "not a token; rm -rf /\n";
  EXPECT_THROW(read_token_file(path), std::runtime_error);
  std::filesystem::remove_all(dir);
}
