// Blackout windows in local time, on instants the test names in UTC.
#include "alerts/blackout.hpp"
#include "alerts/engine.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server::alerts;
using namespace std::chrono_literals;

namespace {

blackout make(const std::string& definition) {
  auto parsed = parse_blackout("b1", "nightly", json::parse(definition));
  if (auto* error = std::get_if<std::string>(&parsed)) throw std::runtime_error(*error);
  return std::get<blackout>(parsed);
}

time_point at(const char* iso) { return *parse_iso8601(iso); }

std::string error_of(const std::string& definition) {
  auto parsed = parse_blackout("b", "b", json::parse(definition));
  auto* error = std::get_if<std::string>(&parsed);
  return error != nullptr ? *error : "";
}

}  // namespace

TEST(blackout, a_window_across_midnight_is_kept_in_its_own_time_zone) {
  // Weeknights from 22:00 to 06:00 in Berlin (UTC+1 in December): 21:00 to 05:00 UTC.
  const auto b = make(R"({"days":["mon","tue","wed","thu","fri"],"start":"22:00","end":"06:00","time_zone":"Europe/Berlin"})");
  EXPECT_FALSE(b.covers("h1", at("2026-12-02T20:59:00Z")));  // Wednesday 21:59 in Berlin
  EXPECT_TRUE(b.covers("h1", at("2026-12-02T21:00:00Z")));   // Wednesday 22:00
  EXPECT_TRUE(b.covers("h1", at("2026-12-03T04:59:00Z")));   // Thursday 05:59: the night that began on Wednesday
  EXPECT_FALSE(b.covers("h1", at("2026-12-03T05:00:00Z")));  // Thursday 06:00
  EXPECT_TRUE(b.covers("h1", at("2026-12-05T04:00:00Z")));   // Saturday 05:00: Friday night's window
  EXPECT_FALSE(b.covers("h1", at("2026-12-05T21:30:00Z")));  // Saturday 22:30: no window starts on Saturdays
  EXPECT_FALSE(b.covers("h1", at("2026-12-07T04:00:00Z")));  // Monday 05:00: Sunday night has none
  // In summer Berlin is UTC+2: 22:00 there is 20:00 UTC.
  EXPECT_TRUE(b.covers("h1", at("2026-07-01T20:00:00Z")));
  EXPECT_FALSE(b.covers("h1", at("2026-07-01T19:59:00Z")));
}

TEST(blackout, a_day_window_its_hosts_and_a_whole_day) {
  const auto b = make(R"({"days":["sun"],"start":"02:00","end":"03:30","hosts":["h2"]})");
  EXPECT_TRUE(b.covers("h2", at("2026-12-06T02:00:00Z")));  // Sunday, UTC by default
  EXPECT_FALSE(b.covers("h2", at("2026-12-06T03:30:00Z")));
  EXPECT_FALSE(b.covers("h1", at("2026-12-06T02:30:00Z"))) << "another host";
  const auto all_day = make(R"({"start":"00:00","end":"00:00"})");
  EXPECT_TRUE(all_day.covers("h1", at("2026-12-02T00:00:00Z")));
  EXPECT_TRUE(all_day.covers("h1", at("2026-12-06T23:59:59Z")));
  EXPECT_EQ(json::serialize(definition_json(b)), R"({"days":["sun"],"start":"02:00","end":"03:30","time_zone":"UTC","hosts":["h2"]})");
}

TEST(blackout, bad_definitions_say_what_is_wrong) {
  EXPECT_NE(error_of(R"({"start":"25:00","end":"06:00"})").find("start must be a time of day"), std::string::npos);
  EXPECT_NE(error_of(R"({"start":"22:00"})").find("end must be"), std::string::npos);
  EXPECT_NE(error_of(R"({"days":["someday"],"start":"22:00","end":"06:00"})").find("days must be"), std::string::npos);
  EXPECT_NE(error_of(R"({"start":"22:00","end":"06:00","time_zone":"Mars/Base"})").find("not a zone"), std::string::npos);
  EXPECT_NE(error_of(R"({"start":"22:00","end":"06:00","time_zone":"../../etc/passwd"})").find("not a zone"), std::string::npos);
  EXPECT_NE(error_of(R"({"start":"22:00","end":"06:00","colour":"red"})").find("unknown field colour"), std::string::npos);
}

TEST(blackout, alerts_in_a_blackout_fire_but_tell_no_one_not_even_of_their_end) {
  engine e;
  auto parsed = parse_rule("r1", "stopped", json::parse(R"({"kind":"container_stopped","channel_ids":["c1"]})"));
  e.set_rule(std::get<rule>(parsed), at("2026-12-02T00:00:00Z"));
  std::vector<blackout> windows{make(R"({"start":"22:00","end":"06:00"})")};
  e.set_blackouts(windows);
  store::event_record die;
  die.host_id = "h1";
  die.container_id = std::string(64, 'a');
  die.container_name = "web";
  die.type = "container";
  die.action = "die";
  die.attributes = "{}";
  auto start = die;
  start.action = "start";

  e.on_container_event(die, at("2026-12-02T23:00:00Z"));
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u) << "the alert fires";
  EXPECT_FALSE(fired[0].notified);
  EXPECT_TRUE(e.take_notices().empty()) << "nobody is told";
  e.on_container_event(start, at("2026-12-03T07:00:00Z"));  // after the window
  EXPECT_EQ(e.take_changes().size(), 1u);
  EXPECT_TRUE(e.take_notices().empty()) << "no all-clear for an alarm nobody heard";

  e.on_container_event(die, at("2026-12-03T07:01:00Z"));
  EXPECT_EQ(e.take_notices().size(), 1u) << "outside the window, and no cooldown was started by the withheld one";
  e.set_blackouts({});
}
