// Atomic file replacement on a real temporary folder.
#include "dockmon/common/files.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace dockmon;

namespace {

class files_test : public ::testing::Test {
 protected:
  unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 0777;
  }
  test::temp_dir folder_{"dockmon-files"};
  const std::string dir_ = folder_.path();
};

}  // namespace

TEST_F(files_test, a_written_file_replaces_the_old_one_whole_with_its_mode_and_no_temporary_left) {
  const auto path = dir_ + "/nested/state.json";
  write_file_atomically(path, "first", 0600);
  write_file_atomically(path, "second", 0644);
  EXPECT_EQ(read_small_file(path, 100).value(), "second");
  EXPECT_EQ(mode_of(path), 0644u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(files_test, an_executable_stays_executable_whatever_the_umask) {
  const auto old_mask = ::umask(077);
  const auto path = dir_ + "/program";
  write_file_atomically(path, "#!/bin/sh\n", 0755);
  ::umask(old_mask);
  EXPECT_EQ(mode_of(path), 0755u);
}

TEST_F(files_test, a_copy_has_the_same_bytes_as_its_source) {
  const auto source = dir_ + "/source";
  {
    std::ofstream out(source, std::ios::binary);
    for (int i = 0; i < 200000; ++i) out.put(static_cast<char>(i * 7));
  }
  copy_file_atomically(source, dir_ + "/copy", 0700);
  EXPECT_EQ(sha256_file_hex(dir_ + "/copy"), sha256_file_hex(source));
  EXPECT_EQ(mode_of(dir_ + "/copy"), 0700u);
}

TEST_F(files_test, a_missing_source_leaves_the_target_as_it_was) {
  write_file_atomically(dir_ + "/target", "kept", 0600);
  EXPECT_THROW(copy_file_atomically(dir_ + "/missing", dir_ + "/target", 0600), std::runtime_error);
  EXPECT_EQ(read_small_file(dir_ + "/target", 100).value(), "kept");
}

TEST_F(files_test, small_files_are_read_whole_missing_ones_are_nothing_and_big_ones_refused) {
  EXPECT_FALSE(read_small_file(dir_ + "/absent", 10).has_value());
  write_file_atomically(dir_ + "/big", std::string(5000, 'x'), 0600);
  EXPECT_THROW(read_small_file(dir_ + "/big", 4096), std::runtime_error);
}

TEST_F(files_test, sha256_of_a_file_matches_sha256_of_its_bytes) {
  write_file_atomically(dir_ + "/abc", "abc", 0600);
  EXPECT_EQ(sha256_file_hex(dir_ + "/abc"), sha256_hex("abc"));
  EXPECT_THROW(sha256_file_hex(dir_ + "/absent"), std::runtime_error);
}
