#include "dockmon/common/sealing.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace dockmon {
namespace {

TEST(sealing_test, a_sealed_secret_opens_with_its_key_only) {
  const auto box = secret_box::random();
  const auto sealed = box.seal("https://hooks.slack.com/services/T0/B0/secret");
  EXPECT_EQ(sealed.find("secret"), std::string::npos);
  EXPECT_TRUE(sealed.starts_with("v1:"));
  EXPECT_NE(box.seal("same"), box.seal("same")) << "a fresh nonce each time";
  EXPECT_EQ(box.open(sealed), "https://hooks.slack.com/services/T0/B0/secret");
  EXPECT_EQ(box.open(box.seal("")), "");
  EXPECT_FALSE(secret_box::random().open(sealed)) << "another key";
  auto changed = sealed;
  changed[10] = changed[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(box.open(changed)) << "a changed byte";
  EXPECT_FALSE(box.open("v1:"));
  EXPECT_FALSE(box.open("plain text"));
}

TEST(sealing_test, the_key_file_is_made_once_private_and_kept) {
  const auto folder = std::filesystem::temp_directory_path() / ("sealing-" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  const auto path = (folder / "secrets.key").string();
  const auto sealed = secret_box::load_or_create(path).seal("token");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::filesystem::file_size(path), 32u);
  EXPECT_EQ(secret_box::load_or_create(path).open(sealed), "token") << "the same key after a restart";
  std::ofstream(path, std::ios::trunc) << "short";
  EXPECT_THROW(secret_box::load_or_create(path), std::runtime_error);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace dockmon
