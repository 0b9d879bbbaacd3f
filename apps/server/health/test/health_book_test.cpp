// The book: frames for agents with current ids, results into changes, DockMon's agent's probes under thresholds here.
#include "health/health_book.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server;

namespace {

const std::string web_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string new_id = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

check_settings settings(const char* body) { return std::get<check_settings>(parse_check_body(json::parse(body).as_object(), nullptr)); }

protocol::health_check_result result(bool healthy, std::string state = {}) {
  protocol::health_check_result r;
  r.container_id = web_id.substr(0, 12);
  r.healthy = healthy;
  r.state = std::move(state);
  r.timestamp = "2026-12-03T10:00:00Z";
  if (!healthy) r.error_message = "status 500";
  return r;
}

}  // namespace

TEST(health_book, the_sync_names_each_container_by_its_current_short_id_and_leaves_out_server_checks_and_unknown_ones) {
  health_book book;
  book.put("h1", "web", settings(R"({"url":"http://{container}/"})"), "t");
  book.put("h1", "db", settings(R"({"type":"tcp","address":"{container}:5432"})"), "t");
  book.put("h1", "api", settings(R"({"url":"http://10.0.0.5/","check_from":"server"})"), "t");
  book.put("h2", "web", settings(R"({"url":"http://{container}/"})"), "t");
  auto frame = book.sync_frame("h1", {{"web", web_id}, {"api", new_id}});
  EXPECT_EQ(frame.at("type").as_string(), "health_check_configs_sync");
  const auto& configs = frame.at("payload").at("configs").as_array();
  ASSERT_EQ(configs.size(), 1u) << "db has no container now; api runs from the server; h2 is another host";
  EXPECT_EQ(configs[0].at("container_id").as_string(), web_id.substr(0, 12));
  EXPECT_EQ(configs[0].at("host_id").as_string(), "h1");
  EXPECT_EQ(configs[0].at("failure_threshold").as_int64(), 3);
  EXPECT_EQ(book.find_ref("h1", web_id)->container_name, "web");
  auto later = book.sync_frame("h1", {{"api", new_id}});
  EXPECT_TRUE(later.at("payload").at("configs").as_array().empty()) << "web is gone: its old id is not given again";
  EXPECT_EQ(book.find_ref("h1", web_id), nullptr);
}

TEST(health_book, a_container_re_made_under_its_name_takes_the_check_with_it) {
  health_book book;
  book.put("h1", "web", settings(R"({"url":"http://{container}/"})"), "t");
  book.sync_frame("h1", {{"web", web_id}});
  EXPECT_TRUE(book.container_seen("h1", web_id, "web").empty()) << "the same container: nothing to send";
  auto frames = book.container_seen("h1", new_id, "web");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(json::serialize(frames[0]), R"({"type":"health_check_config_remove","payload":{"container_id":"0123456789ab"}})");
  EXPECT_EQ(frames[1].at("payload").at("container_id").as_string(), "fedcba987654");
  EXPECT_TRUE(book.container_seen("h1", new_id, "other").empty());
}

TEST(health_book, our_agent_s_state_changes_become_changes_once_and_restarts_are_logged) {
  health_book book;
  book.put("h1", "web", settings(R"({"url":"http://{container}/","auto_restart":true})"), "t");
  book.sync_frame("h1", {{"web", web_id}});
  auto down = result(false, "unhealthy");
  down.consecutive_failures = 3;
  auto c = book.on_result("h1", down);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->action, "unhealthy");
  EXPECT_EQ(c->container_name, "web");
  EXPECT_EQ(c->attributes.at("error").as_string(), "status 500");
  EXPECT_EQ(c->container_id, web_id) << "events carry the full id, as Docker's do";
  EXPECT_FALSE(book.on_result("h1", down)) << "told once";
  protocol::auto_restart_report r{web_id.substr(0, 12), "web", "h1", "health_check", 1, 3, true, false, "", "2026-12-03T10:01:00Z"};
  auto restarted = book.on_restart("h1", r);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(restarted->action, "auto_restart");
  r.gave_up = true;
  EXPECT_EQ(book.on_restart("h1", r)->action, "gave_up");
  auto status = health_book::status_json(*book.find("h1", "web"));
  EXPECT_EQ(status.at("restart_log").as_array().size(), 2u);
  EXPECT_TRUE(status.at("gave_up").as_bool());
  EXPECT_EQ(book.on_result("h1", result(true, "healthy"))->action, "healthy");
  auto other = result(false, "unhealthy");
  other.container_id = "aaaaaaaaaaaa";
  EXPECT_FALSE(book.on_result("h1", other)) << "not a check of this server";
}

TEST(health_book, dockmon_s_agent_sends_every_probe_and_the_thresholds_apply_here) {
  health_book book;
  book.put("h1", "web", settings(R"({"url":"http://{container}/"})"), "t");
  book.sync_frame("h1", {{"web", web_id}});
  EXPECT_EQ(book.on_result("h1", result(true))->action, "healthy");
  EXPECT_FALSE(book.on_result("h1", result(false)));
  EXPECT_FALSE(book.on_result("h1", result(false)));
  EXPECT_EQ(book.on_result("h1", result(false))->action, "unhealthy") << "the third failure in a row";
  EXPECT_EQ(health_book::status_json(*book.find("h1", "web")).at("last_results").as_array().size(), 4u);
}

TEST(health_book, a_summary_fills_the_sparkline_and_catches_a_missed_change) {
  health_book book;
  book.put("h1", "web", settings(R"({"url":"http://{container}/","interval_s":10})"), "t");
  book.sync_frame("h1", {{"web", web_id}});
  auto r = result(true, "healthy");
  r.recent_ms = {4, -1, 6};
  auto changes = book.on_summary("h1", {r});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].action, "healthy");
  auto points = health_book::status_json(*book.find("h1", "web")).at("last_results").as_array();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].at("timestamp").as_string(), "2026-12-03T09:59:40Z");
  EXPECT_FALSE(points[1].at("healthy").as_bool());
  EXPECT_EQ(points[2].at("response_time_ms").as_int64(), 6);
}
