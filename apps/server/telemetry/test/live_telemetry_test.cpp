// The host frame's filesystems as an agent may send them, well-formed or not: what is kept, what the
// alert engine hears, and what the API shows.
#include "telemetry/live_telemetry.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server;

TEST(live_telemetry, a_host_frames_filesystems_are_checked_and_their_use_worked_out_here) {
  live_telemetry t;
  std::vector<filesystem_point> heard;
  t.on_disks_kept([&](const std::string& host_id, const std::vector<filesystem_point>& disks) {
    EXPECT_EQ(host_id, "h1");
    heard = disks;
  });
  auto stats = json::parse(R"({"cpu_percent":1,"mem_percent":2,"net_bytes_per_sec":3,"filesystems":[
      {"mount":"/","total_bytes":1000,"used_bytes":250,"available_bytes":250,"used_percent":1},
      {"mount":"/more-than-all","total_bytes":1000,"used_bytes":600,"available_bytes":600},
      {"mount":"relative","total_bytes":1000,"used_bytes":1},
      {"mount":"/more-used-than-there-is","total_bytes":10,"used_bytes":11},
      {"mount":"/empty","total_bytes":0,"used_bytes":0},
      {"mount":"/<b>x</b>","total_bytes":100,"used_bytes":"lots"},
      "not an object"]})").as_object();
  t.on_host_stats("h1", stats);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0].mount, "/");
  EXPECT_DOUBLE_EQ(heard[0].used_percent, 50) << "as df says it (reserved blocks count as full), not the agent's own percent";
  EXPECT_EQ(heard[1].mount, "/bx/b") << "markup stripped";
  EXPECT_DOUBLE_EQ(heard[1].used_bytes, 0) << "a used size that is not a number counts as none";
  EXPECT_EQ(t.host_stats_json("h1").at("filesystems").as_array().size(), 2u);

  json::array many;
  for (int i = 0; i < 500; ++i) many.push_back(json::object{{"mount", "/m" + std::to_string(i)}, {"total_bytes", 10}, {"used_bytes", 5}});
  stats["filesystems"] = std::move(many);
  t.on_host_stats("h1", stats);
  EXPECT_EQ(heard.size(), 64u) << "capped";

  heard.clear();
  stats.erase("filesystems");
  t.on_host_stats("h1", stats);  // DockMon's agents send none: nothing to hear, the last ones stay shown
  EXPECT_TRUE(heard.empty());
  EXPECT_EQ(t.host_stats_json("h1").at("filesystems").as_array().size(), 64u);
}
