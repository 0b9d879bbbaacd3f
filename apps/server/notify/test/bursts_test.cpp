#include "notify/bursts.hpp"

#include <gtest/gtest.h>

using namespace dockmon::server::notify;
using namespace std::chrono_literals;

TEST(bursts, the_first_message_goes_at_once_and_the_rest_of_a_burst_together_at_its_end) {
  burst_grouping bursts(10s);
  EXPECT_EQ(bursts.due_ms("c1", "h1", 1000), 1000) << "the first: at once";
  EXPECT_EQ(bursts.due_ms("c1", "h1", 1200), 11000) << "then held to the window's end";
  EXPECT_EQ(bursts.due_ms("c1", "h1", 9000), 11000) << "all of them to the same time";
  EXPECT_EQ(bursts.due_ms("c1", "h2", 1300), 1300) << "another host is another burst";
  EXPECT_EQ(bursts.due_ms("c2", "h1", 1300), 1300) << "and another channel";
  EXPECT_EQ(bursts.due_ms("c1", "h1", 11000), 11000) << "after the window: a new burst";
  EXPECT_EQ(bursts.due_ms("c1", "h1", 11500), 21000);
}

TEST(bursts, a_grouped_message_lists_each_one_under_the_worst_severity) {
  std::vector<message> parts;
  for (int i = 0; i < 30; ++i) {
    message m;
    m.event = i < 28 ? "fired" : "resolved";
    m.severity = i == 3 ? "critical" : "warning";
    m.title = "[" + m.severity + "] c" + std::to_string(i) + " on node-a stopped";
    m.host_id = "h1";
    m.host_name = "node-a";
    m.link = "https://dockmon.example/#/alerts/a" + std::to_string(i);
    parts.push_back(m);
  }
  const auto m = grouped_message(parts);
  EXPECT_EQ(m.event, "grouped");
  EXPECT_EQ(m.severity, "critical");
  EXPECT_EQ(m.host_name, "node-a");
  EXPECT_EQ(m.title, "[critical] 30 alerts on node-a: 28 firing, 2 resolved");
  EXPECT_EQ(m.text.substr(0, m.text.find('\n')), "[warning] c0 on node-a stopped");
  EXPECT_NE(m.text.find("[warning] c24 on node-a stopped\n... and 5 more\nhttps://dockmon.example/#/alerts"), std::string::npos) << m.text;
  EXPECT_EQ(m.text.find("c25"), std::string::npos);
  EXPECT_EQ(grouped_message({parts[0]}).title, parts[0].title) << "one is itself";
}

TEST(bursts, a_window_of_zero_sends_each_at_once) {
  burst_grouping each(0s);
  EXPECT_EQ(each.due_ms("c1", "h1", 1000), 1000);
  EXPECT_EQ(each.due_ms("c1", "h1", 1001), 1001);
}
