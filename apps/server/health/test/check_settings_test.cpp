// Health check bodies as DESIGN.md section 11 has them: checked, stored with secrets sealed, shown masked.
#include "health/check_settings.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server;

namespace {
check_settings parsed(const char* body, const check_settings* previous = nullptr) {
  auto s = parse_check_body(json::parse(body).as_object(), previous);
  if (auto* error = std::get_if<std::string>(&s)) ADD_FAILURE() << *error;
  return std::get<check_settings>(s);
}
std::string refused(const char* body) {
  auto s = parse_check_body(json::parse(body).as_object(), nullptr);
  return s.index() == 1 ? std::get<std::string>(s) : "(accepted)";
}
}  // namespace

TEST(check_settings, a_body_becomes_the_agent_s_config_with_our_defaults) {
  auto s = parsed(R"({"url":"http://{container}:8080/health","expected_status":"200-299","interval_s":10,"auto_restart":true})");
  EXPECT_EQ(s.config.url, "http://{container}:8080/health");
  EXPECT_EQ(s.config.expected_status_codes, "200-299");
  EXPECT_EQ(s.config.check_interval_seconds, 10);
  EXPECT_EQ(s.config.failure_threshold, 3);
  EXPECT_EQ(s.config.auto_restart, true);
  EXPECT_EQ(s.config.max_restarts, 3);
  EXPECT_EQ(s.check_from, "agent");
  EXPECT_TRUE(s.config.container_id.empty());
  auto tcp = parsed(R"({"type":"tcp","address":"{container}:5432"})");
  EXPECT_EQ(tcp.config.url, "tcp://{container}:5432");
  EXPECT_EQ(settings_json(tcp).at("address").as_string(), "{container}:5432");
}

TEST(check_settings, what_an_agent_would_refuse_is_refused_here_in_the_body_s_words) {
  EXPECT_NE(refused(R"({})").find("url"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"file:///etc/passwd"})").find("url"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","interval_s":1})").find("interval_s"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","timeout_s":"5"})").find("timeout_s"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","expected_status":"ok"})").find("expected_status"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","headers":{"A":"1\r\nB: 2"}})").find("headers"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","check_from":"moon"})").find("check_from"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://{container}/","check_from":"server"})").find("{container}"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","max_restarts":1000})").find("max_restarts"), std::string::npos);
  EXPECT_NE(refused(R"({"url":"http://x/","auto_restart":"yes"})").find("auto_restart"), std::string::npos);
  EXPECT_NE(refused(R"({"type":"udp"})").find("type"), std::string::npos);
}

TEST(check_settings, secrets_are_sealed_in_the_store_masked_in_answers_and_kept_when_sent_back_masked) {
  auto box = secret_box::random();
  auto s = parsed(R"({"url":"https://svc/","headers":{"X-Key":"k-123"},"auth":{"type":"basic","username":"u","password":"p-456"}})");
  auto row = to_record("h1", "web", s, box, "2026-12-03T00:00:00Z");
  EXPECT_EQ(row.settings_json.find("k-123"), std::string::npos);
  EXPECT_EQ(row.settings_json.find("p-456"), std::string::npos);
  EXPECT_EQ(row.secrets_sealed.find("p-456"), std::string::npos);
  auto back = from_record(row, box);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->config.auth_config_json, s.config.auth_config_json);
  EXPECT_EQ(back->config.headers_json, s.config.headers_json);
  EXPECT_FALSE(from_record(row, secret_box::random())) << "another key opens nothing";

  auto shown = settings_json(*back);
  EXPECT_EQ(json::serialize(shown).find("p-456"), std::string::npos);
  EXPECT_EQ(json::serialize(shown).find("k-123"), std::string::npos);
  EXPECT_EQ(shown.at("auth").at("username").as_string(), "u");
  // The page sends the answer back with its masks: the secrets stay as they were.
  auto again = parsed(json::serialize(shown).c_str(), &*back);
  EXPECT_EQ(again.config.auth_config_json, s.config.auth_config_json);
  EXPECT_EQ(again.config.headers_json, s.config.headers_json);
}
