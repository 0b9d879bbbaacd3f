// The synced set: DockMon's frames change it, a bad config is left out, and it outlives the agent.
#include "health/health_monitor.hpp"

#include "dockmon/test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

using namespace dockmon;
using namespace dockmon::agent;

namespace {

json::object config(const std::string& id, int interval = 60) {
  return json::object{{"container_id", id}, {"host_id", "h1"}, {"enabled", true}, {"url", "http://127.0.0.1:1/health"},
                      {"method", "GET"}, {"expected_status_codes", "200"}, {"timeout_seconds", 2},
                      {"check_interval_seconds", interval}, {"follow_redirects", true}, {"verify_ssl", true},
                      {"headers_json", nullptr}, {"auth_config_json", nullptr}};
}

json::object frame(std::string type, json::object payload) {
  return json::object{{"type", std::move(type)}, {"payload", std::move(payload)}};
}

struct fixture {
  dockmon::test::temp_dir dir{"health-monitor"};
  net::io_context ioc;
  // No engine behind it: the checks find no container and wait.
  docker::client docker{ioc.get_executor(), docker::parse_docker_host("unix://" + dir.path() + "/none.sock")};
  std::vector<std::string> emitted;
  std::unique_ptr<health_monitor> make() {
    health_options o;
    o.state_file = dir / "health_checks.json";
    return std::make_unique<health_monitor>(ioc.get_executor(), docker, o, [this](std::string f) { emitted.push_back(f); }, nullptr);
  }
};

}  // namespace

TEST(health_monitor, dockmon_s_frames_set_replace_and_remove_checks_and_a_bad_config_is_left_out) {
  fixture f;
  auto m = f.make();
  m->start();
  json::array configs{config("0123456789ab"), config("abcdef012345")};
  auto bad = config("fedcba987654");
  bad["url"] = "file:///etc/passwd";
  configs.push_back(bad);
  EXPECT_TRUE(m->handle_frame(frame("health_check_configs_sync", json::object{{"configs", configs}})));
  EXPECT_EQ(m->size(), 2u) << "the refused config is left out, the others run";
  EXPECT_TRUE(m->handle_frame(frame("health_check_config", config("111111111111"))));
  EXPECT_EQ(m->size(), 3u);
  EXPECT_TRUE(m->handle_frame(frame("health_check_config_remove", json::object{{"container_id", "0123456789ab"}})));
  EXPECT_EQ(m->size(), 2u);
  EXPECT_TRUE(m->handle_frame(frame("health_check_config_remove", json::object{{"container_id", "../x"}})));
  EXPECT_EQ(m->size(), 2u);
  EXPECT_FALSE(m->handle_frame(json::object{{"type", "command"}})) << "not a health frame: the dispatcher's";
  EXPECT_TRUE(m->handle_frame(frame("health_check_configs_sync", json::object{{"configs", json::array{config("222222222222")}}})));
  EXPECT_EQ(m->size(), 1u) << "a sync replaces the whole set";
}

TEST(health_monitor, the_synced_set_is_kept_private_on_disk_and_loaded_by_the_next_agent) {
  fixture f;
  {
    auto m = f.make();
    m->start();
    m->link_up(true);
    json::array configs{config("0123456789ab", 30), config("abcdef012345")};
    m->handle_frame(frame("health_check_configs_sync", json::object{{"configs", configs}}));
  }
  struct stat st {};
  ASSERT_EQ(::stat((f.dir / "health_checks.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "check credentials may be in it";
  auto next = f.make();
  next->start();
  EXPECT_EQ(next->size(), 2u) << "the agent restarted without a server goes on with the last synced set";

  std::ofstream(f.dir / "health_checks.json") << "not json";
  auto broken = f.make();
  broken->start();
  EXPECT_EQ(broken->size(), 0u);
}
