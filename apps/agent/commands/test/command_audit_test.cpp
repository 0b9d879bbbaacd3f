#include "commands/command_audit.hpp"
#include "dockmon/common/net.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace dockmon;
using namespace dockmon::agent;

TEST(command_audit, appends_private_json_lines_and_rotates_by_size) {
  char tmpl[] = "/tmp/dockmon-audit-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  command_audit audit(dir, 400);
  audit.record(command_audit::kind::change, "stop", "web", "c1", "ok");
  audit.record(command_audit::kind::change, "remove", "db", "c2", "refused by this host's allow-list (AGENT_ALLOW): remove");
  std::ifstream in(dir + "/audit.log");
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  auto line = json::parse(first).as_object();
  EXPECT_EQ(line.at("command"), "stop");
  EXPECT_EQ(line.at("container"), "web");
  EXPECT_EQ(line.at("result"), "ok");
  EXPECT_EQ(json::parse(second).at("command"), "remove");
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (int i = 0; i < 10; ++i) audit.record(command_audit::kind::change, "start", "web", "c" + std::to_string(i), "ok");
  EXPECT_TRUE(std::filesystem::exists(dir + "/audit.log.1"));
  EXPECT_LE(std::filesystem::file_size(dir + "/audit.log"), 400u);
  std::filesystem::remove_all(dir);
}

TEST(command_audit, a_flood_of_reads_never_pushes_out_the_record_of_a_change) {
  char tmpl[] = "/tmp/dockmon-audit-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  command_audit audit(dir, 4096);
  audit.record(command_audit::kind::change, "remove", "db", "c1", "ok");
  for (int i = 0; i < 1000; ++i) audit.record(command_audit::kind::read, "inspect", "web", "r" + std::to_string(i), "ok");
  EXPECT_TRUE(std::filesystem::exists(dir + "/audit-reads.log.1")) << "the reads rotated";
  std::ifstream changes(dir + "/audit.log");
  std::string line;
  ASSERT_TRUE(std::getline(changes, line));
  EXPECT_EQ(json::parse(line).at("command"), "remove");
  EXPECT_FALSE(std::getline(changes, line)) << "no read in the changes file";
  // A value cannot forge a line: it is one JSON string, newlines escaped.
  audit.record(command_audit::kind::change, "stop", "x\n{\"command\":\"forged\"}", "c2", "ok\r\n");
  std::ifstream again(dir + "/audit.log");
  int lines = 0;
  while (std::getline(again, line)) {
    EXPECT_NE(json::parse(line).at("command"), "forged");
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  std::filesystem::remove_all(dir);
}
