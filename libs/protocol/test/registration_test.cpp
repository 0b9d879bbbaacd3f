#include "dockmon/protocol/registration.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::protocol;

namespace {

json::object valid_frame() {
  return json::parse(R"({
    "type":"register","token":"abc_DEF-123:x","engine_id":"ABCD:EFGH:1234","hostname":"host-1",
    "version":"0.1.0","proto_version":"1.1",
    "capabilities":{"container_operations":true,"stats_collection":true,"stats_batch":true},
    "os_type":"linux","os_version":"Debian GNU/Linux 12","kernel_version":"6.1.0","docker_version":"20.10.24",
    "daemon_started_at":"2026-11-27T06:00:00Z","total_memory":25769803776,"num_cpus":2,
    "hostname_source":"docker","force_unique_registration":false,"agent_os":"linux","agent_arch":"amd64",
    "host_ips":["10.0.0.5"],"host_ip":"10.0.0.5"})").as_object();
}

void expect_refused(const json::object& frame, std::string_view mentions) {
  auto r = parse_register(json::value(frame));
  ASSERT_FALSE(r.has_value()) << json::serialize(frame);
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
}

}  // namespace

TEST(registration, accepts_a_complete_dockmon_frame) {
  auto r = parse_register(json::value(valid_frame()));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->token, "abc_DEF-123:x");
  EXPECT_EQ(r->engine_id, "ABCD:EFGH:1234");
  EXPECT_EQ(r->total_memory, 25769803776);
  EXPECT_EQ(r->num_cpus, 2);
  EXPECT_TRUE(r->capabilities.at("stats_batch").as_bool());
  EXPECT_EQ(r->host_ips.size(), 1u);
}

TEST(registration, accepts_a_minimal_frame) {
  auto r = parse_register(std::string_view(R"({"type":"register","token":"t","engine_id":"e"})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->total_memory, 0);
}

TEST(registration, refuses_non_json_and_non_objects) {
  EXPECT_FALSE(parse_register(std::string_view("{not json")).has_value());
  EXPECT_FALSE(parse_register(std::string_view("[1,2]")).has_value());
}

TEST(registration, refuses_wrong_type) {
  auto f = valid_frame();
  f["type"] = "heartbeat";
  expect_refused(f, "register");
  f.erase("type");
  expect_refused(f, "register");
}

TEST(registration, refuses_unknown_fields) {
  auto f = valid_frame();
  f["is_admin"] = true;
  expect_refused(f, "unknown field");
}

TEST(registration, refuses_missing_or_malformed_token) {
  auto f = valid_frame();
  f.erase("token");
  expect_refused(f, "token");
  for (const char* bad : {"", "has space", "semi;colon", "quote'", "slash/", "<script>", "dot.dot"}) {
    f["token"] = bad;
    expect_refused(f, "token");
  }
  f["token"] = 12345;
  expect_refused(f, "token");
  f["token"] = std::string(256, 'a');
  expect_refused(f, "token");
  f["token"] = std::string(255, 'a');
  EXPECT_TRUE(parse_register(json::value(f)).has_value());
}

TEST(registration, refuses_missing_or_malformed_engine_id) {
  auto f = valid_frame();
  f.erase("engine_id");
  expect_refused(f, "engine_id");
  f["engine_id"] = "../../etc";
  expect_refused(f, "engine_id");
  f["engine_id"] = std::string(256, 'E');
  expect_refused(f, "engine_id");
}

TEST(registration, refuses_total_memory_out_of_range) {
  auto f = valid_frame();
  for (json::value bad : {json::value(0), json::value(-1), json::value((std::int64_t{1} << 50) + 1), json::value("lots"),
                          json::value(1.5)}) {
    f["total_memory"] = bad;
    expect_refused(f, "total_memory");
  }
  f["total_memory"] = std::int64_t{1} << 50;
  EXPECT_TRUE(parse_register(json::value(f)).has_value());
}

TEST(registration, refuses_num_cpus_out_of_range) {
  auto f = valid_frame();
  for (json::value bad : {json::value(0), json::value(10001), json::value("2"), json::value(true)}) {
    f["num_cpus"] = bad;
    expect_refused(f, "num_cpus");
  }
  f["num_cpus"] = 10000;
  EXPECT_TRUE(parse_register(json::value(f)).has_value());
}

TEST(registration, refuses_malformed_capabilities) {
  auto f = valid_frame();
  f["capabilities"] = "all";
  expect_refused(f, "capabilities");
  f["capabilities"] = json::object{{"shell_access", "yes"}};
  expect_refused(f, "capabilities");
  f["capabilities"] = json::object{{"bad name!", true}};
  expect_refused(f, "capabilit");
}

TEST(registration, refuses_non_string_text_fields) {
  auto f = valid_frame();
  f["hostname"] = json::array{1};
  expect_refused(f, "hostname");
  f = valid_frame();
  f["host_ips"] = "10.0.0.1";
  expect_refused(f, "host_ips");
  f = valid_frame();
  f["force_unique_registration"] = "true";
  expect_refused(f, "force_unique_registration");
}

TEST(registration, strips_markup_and_non_printables_and_caps_length) {
  auto f = valid_frame();
  f["hostname"] = "<script>alert(1)</script>\x01\x7fhost";
  f["os_version"] = std::string(1000, 'x');
  auto r = parse_register(json::value(f));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->hostname, "scriptalert(1)/scripthost");
  EXPECT_EQ(r->os_version.size(), 255u);
}

TEST(registration, keeps_utf8_and_drops_broken_sequences) {
  EXPECT_EQ(sanitize_text("h\xc3\xa9te", 10), "h\xc3\xa9te");
  EXPECT_EQ(sanitize_text("a\xc3z", 10), "az");
  EXPECT_EQ(sanitize_text("ab\xc3\xa9", 3), "ab");  // never cut a character in half
}

TEST(auth_reply, success_round_trips) {
  auth_success s{"agent-1", "host-1", "tok_en", "0.1.0", true, true, true};
  auto r = parse_auth_reply(json::value(to_json(s)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->success.host_id, "host-1");
  EXPECT_TRUE(r->success.stats_batch);
  EXPECT_TRUE(r->success.host_filesystems);
  EXPECT_TRUE(r->success.health_thresholds);
}

TEST(auth_reply, error_carries_the_reason) {
  auto r = parse_auth_reply(json::value(auth_error_frame("Invalid or expired registration token")));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "Invalid or expired registration token");
}

TEST(auth_reply, dockmon_reply_without_extras_is_understood) {
  auto r = parse_auth_reply(json::parse(R"({"type":"auth_success","agent_id":"a","host_id":"h","permanent_token":"a"})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->success.stats_batch);
  EXPECT_FALSE(r->success.host_filesystems);
  EXPECT_FALSE(r->success.health_thresholds) << "DockMon's backend wants every probe's result";
}
