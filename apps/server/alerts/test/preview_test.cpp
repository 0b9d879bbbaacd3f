// A rule's preview over events the test writes, against what the live engine does with them.
#include "alerts/preview.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server::alerts;
using namespace std::chrono_literals;

namespace {

const time_point now = *parse_iso8601("2026-12-02T12:00:00Z");

rule make_rule(const std::string& definition) {
  auto parsed = parse_rule("r1", "r", json::parse(definition));
  if (auto* error = std::get_if<std::string>(&parsed)) throw std::runtime_error(*error);
  return std::get<rule>(parsed);
}

store::event_record event(const std::string& action, time_point at, const std::string& name = "web") {
  store::event_record e;
  e.host_id = "h1";
  e.container_id = std::string(64, name == "web" ? 'a' : 'b');
  e.container_name = name;
  e.type = "container";
  e.action = action;
  e.attributes = R"({"name":")" + name + R"(","exitCode":"1"})";
  e.timestamp = to_iso8601(at, true);
  return e;
}

// A container that died and came back at each of these times (minutes before now).
std::vector<store::event_record> crashes(std::initializer_list<int> minutes_ago) {
  std::vector<store::event_record> events;
  for (int m : minutes_ago) {
    events.push_back(event("die", now - std::chrono::minutes(m)));
    events.push_back(event("start", now - std::chrono::minutes(m) + 10s));
  }
  return events;
}

}  // namespace

TEST(preview, counts_fired_and_notified_in_the_last_day_and_week_with_the_rules_cooldown) {
  // Three days ago, then twice 30 and 20 minutes ago.
  const auto events = crashes({3 * 24 * 60, 30, 20});
  const auto eager = preview(make_rule(R"({"kind":"container_stopped","cooldown_seconds":0})"), {}, events, now);
  EXPECT_EQ(eager.events_replayed, 6u);
  EXPECT_EQ(eager.fired_7d, 3u);
  EXPECT_EQ(eager.fired_24h, 2u);
  EXPECT_EQ(eager.notified_7d, 6u) << "each alert and its all-clear";
  EXPECT_EQ(eager.notified_24h, 4u);

  const auto calm = preview(make_rule(R"({"kind":"container_stopped","cooldown_seconds":3600})"), {}, events, now);
  EXPECT_EQ(calm.fired_24h, 2u) << "the alerts are the same";
  EXPECT_EQ(calm.notified_24h, 2u) << "the second crash is within the first one's hour: neither it nor its end is sent";
  EXPECT_EQ(calm.notified_7d, 4u);

  const auto other = preview(make_rule(R"({"kind":"container_stopped","scope":{"name":"db"}})"), {}, events, now);
  EXPECT_EQ(other.fired_7d, 0u) << "outside the scope";
}

TEST(preview, a_blackout_and_events_older_than_a_week_count_nothing) {
  auto parsed = parse_blackout("b", "b", json::parse(R"({"start":"11:00","end":"12:00"})"));  // the last hour, UTC
  const std::vector<blackout> windows{std::get<blackout>(parsed)};
  const auto events = crashes({8 * 24 * 60, 30});
  const auto counts = preview(make_rule(R"({"kind":"container_stopped"})"), windows, events, now);
  EXPECT_EQ(counts.events_replayed, 2u) << "the crash of eight days ago is left out";
  EXPECT_EQ(counts.fired_24h, 1u);
  EXPECT_EQ(counts.notified_24h, 0u) << "inside the blackout";
  EXPECT_FALSE(not_replayable(make_rule(R"({"kind":"host_down"})")));
  EXPECT_TRUE(not_replayable(make_rule(R"({"kind":"disk_low"})")));
  EXPECT_FALSE(not_replayable(make_rule(R"({"kind":"cpu_high"})")));
  EXPECT_FALSE(not_replayable(make_rule(R"({"kind":"container_restarting"})")));
}

TEST(preview, cpu_rules_replay_the_stored_averages_holding_each_bucket_for_its_length) {
  // web: 1-minute buckets for the last hour, hot (95%) from 40 to 30 minutes ago, and two days ago one
  // 15-minute bucket at 99%. db: always hot, but outside the rule's name scope.
  const std::string web = "ctr:h1:" + std::string(64, 'a');
  const std::string db = "ctr:h1:" + std::string(64, 'b');
  std::vector<store::stats_rollup_row> web_rows;
  const auto two_days_ago = unix_seconds(now) - 2 * 24 * 3600;
  web_rows.push_back({web, 900, two_days_ago, 99, 0, 0, 5});
  web_rows.push_back({web, 900, two_days_ago + 900, 10, 0, 0, 5});
  for (int m = 60; m > 0; --m) {
    const double cpu = m <= 40 && m > 30 ? 95 : 5;
    web_rows.push_back({web, 60, unix_seconds(now) - m * 60, cpu, 0, 0, 5});
  }
  web_rows.push_back({web, 900, unix_seconds(now) - 3600, 99, 0, 0, 5});  // covered by the 1-minute buckets: left out
  std::vector<store::stats_rollup_row> db_rows{{db, 60, unix_seconds(now) - 600, 99, 0, 0, 5}};

  auto run = [&](const std::string& definition) {
    metric_preview p(make_rule(definition), {}, {event("start", now - 3h)}, {{std::string(64, 'b'), "db"}}, now);
    p.series(web, web_rows);
    p.series(db, db_rows);
    p.series("host:h1", {{"host:h1", 60, unix_seconds(now) - 600, 99, 0, 0, 99}});
    return p.counts();
  };
  const auto five_minutes = run(R"({"kind":"cpu_high","threshold_percent":90,"fire_after_seconds":300,"scope":{"name":"web"}})");
  EXPECT_EQ(five_minutes.fired_24h, 1u) << "ten hot minutes hold the line for five";
  EXPECT_EQ(five_minutes.fired_7d, 2u) << "and the hot quarter hour two days ago";
  EXPECT_EQ(five_minutes.notified_7d, 4u) << "each with its all-clear";
  const auto half_hour = run(R"({"kind":"cpu_high","threshold_percent":90,"fire_after_seconds":1800,"scope":{"name":"web"}})");
  EXPECT_EQ(half_hour.fired_7d, 0u) << "neither stretch lasted 30 minutes";
  const auto everyone = run(R"({"kind":"cpu_high","threshold_percent":90,"fire_after_seconds":0})");
  EXPECT_EQ(everyone.fired_24h, 2u) << "web and db; the host's series is not a container's";
  const auto host = run(R"({"kind":"memory_high","target":"host","threshold_percent":90,"fire_after_seconds":0})");
  EXPECT_EQ(host.fired_24h, 1u);
}

TEST(preview, host_down_replays_the_agents_links_kept_as_events) {
  auto link = [](const std::string& action, time_point at) {
    store::event_record e;
    e.host_id = "h1";
    e.type = "agent";
    e.action = action;
    e.attributes = "{}";
    e.timestamp = to_iso8601(at, true);
    return e;
  };
  const std::vector<store::event_record> events{
      link("connected", now - 3h),
      link("disconnected", now - 2h), link("connected", now - 2h + 30s),   // back within the grace
      link("disconnected", now - 1h), link("connected", now - 1h + 5min),  // away for five minutes
  };
  const auto counts = preview(make_rule(R"({"kind":"host_down","fire_after_seconds":60})"), {}, events, now);
  EXPECT_EQ(counts.fired_24h, 1u);
  EXPECT_EQ(counts.notified_24h, 2u) << "the host-down message and its all-clear";
  EXPECT_EQ(counts.events_replayed, 5u);
}

TEST(preview, a_rule_scoped_by_tag_sees_the_tags_the_live_engine_has) {
  const auto events = crashes({60, 30});
  const auto rule = make_rule(R"({"kind":"container_stopped","scope":{"tag":"prod"}})");
  EXPECT_EQ(preview(rule, {}, events, now).fired_24h, 0u) << "untagged, the container is outside the scope";
  server::tag_book tags;
  tags.load({{"h1", "", "prod"}});
  EXPECT_EQ(preview(rule, {}, events, now, tags).fired_24h, 2u) << "its host is tagged prod";
}
