// The binary swap on a real temporary folder, with small files standing for builds: install, the trial
// counted at start, rollback, and the stale or damaged markers a crash or an operator may leave.
#include "updates/binary_swap.hpp"

#include "dockmon/common/files.hpp"
#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

using namespace dockmon;
using namespace dockmon::agent;

namespace {

class binary_swap_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ + "/bin");
    files_ = update_files::in(dir_ + "/data", dir_ + "/bin/dockmon-agent");
    files_.image = files_.binary;  // the "running build" is the file at the agent's path
    write_file_atomically(files_.binary, "build 1", 0755);
    write_file_atomically(files_.download, "build 2", 0700);
  }

  std::string content(const std::string& path) { return read_small_file(path, 1024).value_or("<missing>"); }
  unsigned mode(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
  }
  update_marker marker() const { return update_marker{"2", "1", files_.binary, 0, "2026-01-01T00:00:00Z"}; }

  test::temp_dir folder_{"dockmon-swap"};
  const std::string dir_ = folder_.path();
  update_files files_;
};

}  // namespace

TEST_F(binary_swap_test, install_keeps_the_running_build_marks_the_trial_and_swaps_in_the_new_one) {
  install_update(files_, marker());
  EXPECT_EQ(content(files_.binary), "build 2");
  EXPECT_EQ(mode(files_.binary), 0755u);
  EXPECT_EQ(content(files_.previous), "build 1");
  EXPECT_FALSE(std::filesystem::exists(files_.download));
  EXPECT_FALSE(std::filesystem::exists(files_.binary + ".tmp"));
  auto m = read_marker(files_.marker);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version, "2");
  EXPECT_EQ(m->previous_version, "1");
  EXPECT_EQ(m->binary, files_.binary);
  EXPECT_EQ(m->attempts, 0);
}

TEST_F(binary_swap_test, a_failed_install_leaves_the_binary_and_no_marker) {
  std::filesystem::remove(files_.download);
  EXPECT_THROW(install_update(files_, marker()), std::runtime_error);
  EXPECT_EQ(content(files_.binary), "build 1");
  EXPECT_FALSE(std::filesystem::exists(files_.marker));
}

TEST_F(binary_swap_test, the_first_start_is_on_trial_and_a_second_one_rolls_back) {
  install_update(files_, marker());
  auto first = check_at_start(files_, "2");
  EXPECT_EQ(first.decision, start_decision::on_trial);
  EXPECT_EQ(read_marker(files_.marker)->attempts, 1) << "the start is counted before the build can crash";
  auto second = check_at_start(files_, "2");
  ASSERT_EQ(second.decision, start_decision::roll_back);

  roll_back_update(files_, second.marker, "it crashed");
  EXPECT_EQ(content(files_.binary), "build 1");
  EXPECT_EQ(mode(files_.binary), 0755u);
  EXPECT_FALSE(std::filesystem::exists(files_.marker));
  EXPECT_EQ(check_at_start(files_, "1").decision, start_decision::no_update);

  auto outcome = take_outcome(files_);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->at("stage"), "rolled_back");
  EXPECT_EQ(outcome->at("error"), "it crashed");
  EXPECT_EQ(outcome->at("version"), "1");
  EXPECT_FALSE(take_outcome(files_)) << "reported once";
}

TEST_F(binary_swap_test, a_proven_build_forgets_the_marker_and_starts_as_usual) {
  install_update(files_, marker());
  ASSERT_EQ(check_at_start(files_, "2").decision, start_decision::on_trial);
  forget_marker(files_);
  EXPECT_EQ(check_at_start(files_, "2").decision, start_decision::no_update);
  EXPECT_EQ(content(files_.binary), "build 2");
}

TEST_F(binary_swap_test, a_marker_for_another_version_or_place_is_stale_and_removed) {
  write_marker(files_.marker, marker());
  EXPECT_EQ(check_at_start(files_, "1").decision, start_decision::no_update) << "the update never took";
  EXPECT_FALSE(std::filesystem::exists(files_.marker));

  auto elsewhere = marker();
  elsewhere.binary = "/usr/local/bin/dockmon-agent";
  write_marker(files_.marker, elsewhere);
  EXPECT_EQ(check_at_start(files_, "2").decision, start_decision::no_update);
  EXPECT_FALSE(std::filesystem::exists(files_.marker));
}

TEST_F(binary_swap_test, a_damaged_marker_is_removed_rather_than_trusted) {
  write_file_atomically(files_.marker, "{\"version\":", 0600);
  EXPECT_EQ(check_at_start(files_, "2").decision, start_decision::no_update);
  EXPECT_FALSE(std::filesystem::exists(files_.marker));
  write_file_atomically(files_.marker, "{\"attempts\":3}", 0600);
  EXPECT_FALSE(read_marker(files_.marker));
  EXPECT_FALSE(std::filesystem::exists(files_.marker));
}

TEST_F(binary_swap_test, without_a_previous_build_the_rollback_says_so_and_stops_trying) {
  install_update(files_, marker());
  std::filesystem::remove(files_.previous);
  auto check = check_at_start(files_, "2");
  check = check_at_start(files_, "2");
  ASSERT_EQ(check.decision, start_decision::roll_back);
  EXPECT_THROW(roll_back_update(files_, check.marker, "it crashed"), std::runtime_error);
  EXPECT_EQ(content(files_.binary), "build 2");
  EXPECT_FALSE(std::filesystem::exists(files_.marker)) << "no rollback loop at every start";
}
