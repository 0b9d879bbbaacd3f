// Health check frames as DockMon 2.4.5's backend and agent write them, and the checks on what arrives.
#include "dockmon/protocol/health_check.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::protocol;

namespace {

// What backend/agent/health_check_sync.py's _build_config_payload makes of a row: the short id, JSON
// columns as text or null.
const char* dockmon_payload = R"({"container_id":"0123456789ab","host_id":"7d6c1a2e-3f4b-4c5d-8e9f-0a1b2c3d4e5f",
  "enabled":true,"url":"http://{container}:8080/health","method":"GET","expected_status_codes":"200-299,301",
  "timeout_seconds":10,"check_interval_seconds":60,"follow_redirects":true,"verify_ssl":false,
  "headers_json":"{\"X-Token\":\"abc\"}","auth_config_json":null})";

health_check_result result_of(bool healthy, int status, std::int64_t ms, std::string error) {
  health_check_result r;
  r.container_id = "0123456789ab";
  r.host_id = "h1";
  r.healthy = healthy;
  r.status_code = status;
  r.response_time_ms = ms;
  r.error_message = std::move(error);
  r.timestamp = "2026-12-02T10:00:00Z";
  return r;
}

}  // namespace

TEST(health_check, dockmon_s_config_payload_is_understood_and_written_back_alike) {
  auto c = parse_health_check_config(json::parse(dockmon_payload));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->container_id, "0123456789ab");
  EXPECT_EQ(c->url, "http://{container}:8080/health");
  EXPECT_FALSE(c->verify_ssl);
  EXPECT_EQ(c->headers_json, R"({"X-Token":"abc"})");
  EXPECT_EQ(c->auth_config_json, "");
  EXPECT_FALSE(c->failure_threshold) << "DockMon's backend applies thresholds itself";
  EXPECT_EQ(json::value(to_json(*c)), json::parse(dockmon_payload)) << "the same fields, the same values";

  c->failure_threshold = 3;
  c->auto_restart = true;
  c->max_restarts = 5;
  auto ours = parse_health_check_config(json::value(to_json(*c)));
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->failure_threshold, 3);
  EXPECT_EQ(ours->auto_restart, true);
  EXPECT_EQ(ours->max_restarts, 5);
}

TEST(health_check, frames_carry_every_parameter_under_payload) {
  auto c = parse_health_check_config(json::parse(dockmon_payload)).value();
  auto one = health_check_config_frame(c);
  EXPECT_EQ(one.at("type").as_string(), "health_check_config");
  EXPECT_EQ(one.at("payload").at("container_id").as_string(), "0123456789ab");
  auto sync = health_check_configs_sync_frame({c, c});
  EXPECT_EQ(sync.at("type").as_string(), "health_check_configs_sync");
  EXPECT_EQ(sync.at("payload").at("configs").as_array().size(), 2u);
  auto gone = health_check_config_remove_frame("0123456789ab");
  EXPECT_EQ(json::serialize(gone), R"({"type":"health_check_config_remove","payload":{"container_id":"0123456789ab"}})");
}

TEST(health_check, results_are_written_as_dockmon_s_agent_writes_them_and_checked_when_read) {
  auto r = result_of(false, 0, 5000, "timeout");
  auto frame = health_check_result_event(r);
  EXPECT_EQ(frame.at("type").as_string(), "event");
  EXPECT_EQ(frame.at("command").as_string(), "health_check_result");
  EXPECT_EQ(json::serialize(frame.at("payload")),
            R"({"container_id":"0123456789ab","host_id":"h1","healthy":false,"response_time_ms":5000,)"
            R"("timestamp":"2026-12-02T10:00:00Z","error_message":"timeout"})")
      << "status_code left out when there was no answer, as Go's omitempty does";
  auto back = parse_health_check_result(frame.at("payload").as_object());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->error_message, "timeout");
  EXPECT_EQ(back->status_code, 0);
  EXPECT_FALSE(parse_health_check_result(json::parse(R"({"container_id":"../../x","healthy":true})").as_object()));
  EXPECT_FALSE(parse_health_check_result(json::parse(R"({"container_id":"0123456789ab","healthy":"yes"})").as_object()));
  EXPECT_FALSE(parse_health_check_result(json::parse(R"({"container_id":"0123456789ab","healthy":true,"status_code":-1})").as_object()));
}

TEST(health_check, status_codes_take_dockmon_s_forms_and_nothing_else) {
  auto codes = parse_status_codes("200, 204,300-399");
  ASSERT_TRUE(codes);
  EXPECT_TRUE(codes->accepts(200));
  EXPECT_TRUE(codes->accepts(204));
  EXPECT_TRUE(codes->accepts(350));
  EXPECT_FALSE(codes->accepts(201));
  EXPECT_TRUE(parse_status_codes("")->accepts(200)) << "empty is 200, as DockMon's agent has it";
  for (const char* bad : {"abc", "600", "99", "300-200", "200,", "200-", "2OO"}) EXPECT_FALSE(parse_status_codes(bad)) << bad;
}

TEST(health_check, a_config_that_could_do_harm_or_makes_no_sense_is_refused_naming_the_field) {
  auto refused = [](const std::string& field, const json::value& value) {
    auto o = json::parse(dockmon_payload).as_object();
    o[field] = value;
    auto c = parse_health_check_config(json::value(o));
    return c.has_value() ? std::string("(accepted)") : c.error().message;
  };
  EXPECT_NE(refused("url", "file:///etc/passwd").find("url"), std::string::npos);
  EXPECT_NE(refused("url", "http://x/\r\nHost: evil").find("url"), std::string::npos);
  EXPECT_NE(refused("url", json::value("http://" + std::string(3000, 'a'))).find("url"), std::string::npos);
  EXPECT_NE(refused("method", "CONNECT").find("method"), std::string::npos);
  EXPECT_NE(refused("headers_json", R"({"X-A":"1\r\nX-Injected: 2"})").find("headers_json"), std::string::npos);
  EXPECT_NE(refused("headers_json", R"({"Bad Name":"1"})").find("headers_json"), std::string::npos);
  EXPECT_NE(refused("headers_json", "not json").find("headers_json"), std::string::npos);
  EXPECT_NE(refused("auth_config_json", R"({"type":"kerberos"})").find("auth_config_json"), std::string::npos);
  EXPECT_NE(refused("timeout_seconds", 0).find("timeout_seconds"), std::string::npos);
  EXPECT_NE(refused("check_interval_seconds", 1).find("check_interval_seconds"), std::string::npos);
  EXPECT_NE(refused("expected_status_codes", "ok").find("expected_status_codes"), std::string::npos);
  EXPECT_NE(refused("container_id", "../../db").find("container_id"), std::string::npos);
  EXPECT_NE(refused("enabled", "yes").find("enabled"), std::string::npos);
  EXPECT_NE(refused("failure_threshold", 0).find("failure_threshold"), std::string::npos);
  EXPECT_NE(refused("desired_state", "sometimes").find("desired_state"), std::string::npos);
  EXPECT_NE(refused("restart_on_exit", 1).find("restart_on_exit"), std::string::npos);
  EXPECT_EQ(refused("auth_config_json", R"({"type":"basic","username":"u","password":"p"})"), "(accepted)");
  EXPECT_EQ(refused("url", "tcp://{container}:5432"), "(accepted)") << "a port that must accept";
}

TEST(health_check, our_policy_fields_round_trip_and_dockmon_s_config_has_none) {
  auto c = parse_health_check_config(json::parse(dockmon_payload)).value();
  EXPECT_FALSE(c.agent_applies_policy());
  c.failure_threshold = 2;
  c.restart_on_exit = true;
  c.desired_state = "on_demand";
  auto back = parse_health_check_config(json::value(to_json(c))).value();
  EXPECT_TRUE(back.agent_applies_policy());
  EXPECT_EQ(back.restart_on_exit, true);
  EXPECT_EQ(back.desired_state, "on_demand");
}

TEST(health_check, state_changes_summaries_and_restarts_round_trip_and_are_checked) {
  auto r = result_of(false, 503, 12, "status 503");
  r.state = "unhealthy";
  r.consecutive_failures = 3;
  r.restarts = 1;
  auto back = parse_health_check_result(health_check_result_event(r).at("payload").as_object()).value();
  EXPECT_EQ(back.state, "unhealthy");
  EXPECT_EQ(back.consecutive_failures, 3);
  EXPECT_EQ(back.restarts, 1);

  r.recent_ms = {5, -1, 7};
  auto summary = health_check_summary_event({r, r});
  EXPECT_EQ(summary.at("command").as_string(), "health_check_summary");
  auto checks = parse_health_check_summary(summary.at("payload").as_object()).value();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].recent_ms, (std::vector<std::int64_t>{5, -1, 7}));
  EXPECT_FALSE(parse_health_check_summary(json::parse(R"({"checks":[{"container_id":"0123456789ab","healthy":true,"state":"odd"}]})").as_object()));
  EXPECT_FALSE(parse_health_check_summary(json::parse(R"({"checks":[{"container_id":"0123456789ab","healthy":true,"recent_ms":[-5]}]})").as_object()));

  auto_restart_report a{"0123456789ab", "web", "h1", "health_check", 2, 3, true, false, "", "2026-12-02T10:00:00Z"};
  auto frame = auto_restart_event(a);
  EXPECT_EQ(frame.at("command").as_string(), "auto_restart");
  auto parsed = parse_auto_restart(frame.at("payload").as_object()).value();
  EXPECT_EQ(parsed.attempt, 2);
  EXPECT_EQ(parsed.container_name, "web");
  EXPECT_TRUE(parsed.ok);
  EXPECT_FALSE(parse_auto_restart(json::parse(R"({"container_id":"0123456789ab","reason":"boredom"})").as_object()));
}
