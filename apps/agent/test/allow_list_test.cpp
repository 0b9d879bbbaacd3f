#include "allow_list.hpp"
#include "command_audit.hpp"
#include "dockmon/common/env.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/common/rate_limit.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace dockmon;
using namespace dockmon::agent;

TEST(allow_list, everything_by_default_and_with_all) {
  for (const auto& a : {allow_list(), allow_list::parse("all")}) {
    EXPECT_TRUE(a.allows("stop"));
    EXPECT_TRUE(a.allows("remove"));
    EXPECT_TRUE(a.allows("list_containers"));
    EXPECT_FALSE(a.read_only());
  }
}

TEST(allow_list, read_only_leaves_out_every_change) {
  auto a = allow_list::parse("read_only");
  for (const char* change : {"start", "stop", "restart", "kill", "rename", "remove"}) EXPECT_FALSE(a.allows(change)) << change;
  for (const char* look : {"ping", "get_system_info", "list_containers", "inspect", "get_logs"}) EXPECT_TRUE(a.allows(look)) << look;
  EXPECT_TRUE(a.read_only());
}

TEST(allow_list, a_list_allows_what_it_names_and_ping) {
  auto a = allow_list::parse(" list_containers, restart ");
  EXPECT_TRUE(a.allows("restart"));
  EXPECT_TRUE(a.allows("list_containers"));
  EXPECT_TRUE(a.allows("ping"));
  EXPECT_FALSE(a.allows("stop"));
  EXPECT_FALSE(a.allows("get_logs"));
  EXPECT_FALSE(a.read_only());
}

TEST(allow_list, unknown_names_are_a_config_error) {
  try {
    allow_list::parse("list_containers,exec");
    FAIL() << "accepted exec";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "AGENT_ALLOW");
    EXPECT_NE(std::string(e.what()).find("exec"), std::string::npos);
  }
  EXPECT_THROW(allow_list::parse("readonly"), config_error);
}

TEST(token_bucket, allows_a_burst_then_the_rate) {
  auto t0 = token_bucket::clock::now();
  token_bucket bucket(5, 20);
  int taken = 0;
  for (int i = 0; i < 30; ++i) taken += bucket.try_take(t0) ? 1 : 0;
  EXPECT_EQ(taken, 20);
  EXPECT_FALSE(bucket.try_take(t0 + std::chrono::milliseconds(100)));
  EXPECT_TRUE(bucket.try_take(t0 + std::chrono::milliseconds(300)));  // 5 a second: one more after 200 ms
}

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
