// Two servers on one PostgreSQL database (--replica-address): an agent is held by the one it reached,
// a request for its host that lands on the other is sent on and answered as one server would, and when
// the holder dies (kill -9) requests fail fast with 502 rather than hang, and the agent moves over as
// the same host.
#include "harness.hpp"
#include "receiver.hpp"

#include <gtest/gtest.h>

#include <future>

using namespace dockmon;
using namespace dockmon::test;

namespace {

std::map<std::string, std::string> replica_env(unsigned short port) {
  return {{"DOCKMON_REPLICA_ADDRESS", "http://127.0.0.1:" + std::to_string(port)}};
}

// Two replicas on one new PostgreSQL database: a, and b on a's data folder (the same database and
// secrets key).
class replicas : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(std::getenv("DOCKMON_TEST_POSTGRES_URL"), nullptr) << "run scripts/test-env start"; }

  on_postgres_for_this_test pg_;
  const unsigned short port_a_ = free_port();
  const unsigned short port_b_ = free_port();
  test_server a{replica_env(port_a_), {}, port_a_};
  test_server b{replica_env(port_b_), a.data_dir(), port_b_};

  // The agent's environment for both servers, a first, reconnecting after `wait` to `wait` + 1 s.
  std::map<std::string, std::string> both_urls(const std::string& wait) const {
    return {{"DOCKMON_URL", "http://127.0.0.1:" + std::to_string(port_a_) + ",http://127.0.0.1:" + std::to_string(port_b_)},
            {"RECONNECT_INITIAL", wait + "s"},
            {"RECONNECT_MAX", std::to_string(std::stoi(wait) + 1) + "s"}};
  }
};

// How long the request took and what it answered.
struct timed_answer {
  http_response response;
  std::chrono::milliseconds took{};
};

// One value from the server's database.
std::string one(test_server& server, const std::string& statement) {
  auto out = server.sql(statement);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

timed_answer timed(const std::function<http_response()>& call) {
  const auto start = std::chrono::steady_clock::now();
  auto r = call();
  return {std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
}

}  // namespace

TEST_F(replicas, a_host_held_by_one_replica_is_served_through_the_other) {
  test_agent agent(a.port(), a.registration_token());
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  scoped_container web("replica-web", "sleep 300");

  // b shows the host online, though its agent is connected to a.
  auto seen_on_b = b.host(host_id);
  ASSERT_TRUE(seen_on_b);
  EXPECT_EQ(seen_on_b->at("status").as_string(), "online") << json::serialize(*seen_on_b);

  // Its containers, through b: a's list.
  auto listed = b.get("/api/hosts/" + host_id + "/containers");
  ASSERT_EQ(listed.status, 200u) << listed.body;
  EXPECT_NE(listed.body.find("replica-web"), std::string::npos) << listed.body;

  // A change through b happens on the engine.
  auto stopped = b.post("/api/hosts/" + host_id + "/containers/replica-web/stop?timeout=1");
  ASSERT_EQ(stopped.status, 200u) << stopped.body;
  EXPECT_EQ(docker_inspect("replica-web", "{{.State.Running}}"), "false");
  auto started = b.post("/api/hosts/" + host_id + "/containers/replica-web/start");
  ASSERT_EQ(started.status, 200u) << started.body;
  EXPECT_EQ(docker_inspect("replica-web", "{{.State.Running}}"), "true");

  // The holder checks the caller again: a viewer's key through b may look but not stop.
  const auto viewer_key = a.api_key("viewer");
  auto refused = b.request(http::verb::post, "/api/hosts/" + host_id + "/containers/replica-web/stop", "{}",
                           {{"Authorization", "Bearer " + viewer_key}});
  EXPECT_EQ(refused.status, 403u) << refused.body;
  EXPECT_EQ(docker_inspect("replica-web", "{{.State.Running}}"), "true");
  // A stranger gets nothing from either.
  EXPECT_EQ(http_request(b.port(), http::verb::get, "/api/hosts/" + host_id + "/containers").status, 401u);

  // The database names a as the holder, once.
  EXPECT_EQ(one(a, "SELECT COUNT(*) FROM agent_holders WHERE host_id = '" + host_id + "'"), "1");
  EXPECT_EQ(one(a, "SELECT r.address FROM agent_holders h JOIN replicas r ON r.id = h.replica_id WHERE h.host_id = '" +
                  host_id + "'"),
            "http://127.0.0.1:" + std::to_string(port_a_));
}

TEST_F(replicas, the_live_feed_on_one_replica_shows_the_hosts_the_other_holds_once) {
  test_agent agent(a.port(), a.registration_token());
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());

  // A browser on b, whose agent is on a: b relays a's feed for it.
  ws_client feed(b.port(), "/ws", {{"Cookie", b.cookie()}, {"Origin", "http://127.0.0.1:" + std::to_string(port_b_)}});
  feed.send(json::object{{"type", "subscribe"}, {"hosts", json::array{json::value(host_id)}}});
  std::optional<scoped_container> started;
  int host_stats = 0, container_stats = 0, starts = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  bool all_seen = false;
  while (std::chrono::steady_clock::now() < deadline) {
    auto msg = feed.read_json(2s);
    if (!msg) continue;
    const auto& o = msg->as_object();
    const auto type = o.at("type").as_string();
    if (type == "subscribed" && !started) started.emplace("replica-feed", "sleep 300");
    if (type == "host_stats" && o.at("host_id").as_string() == host_id) ++host_stats;
    if (started && type == "container_stats" && o.at("container_id").as_string() == started->id) ++container_stats;
    if (started && type == "container_event" && o.at("container_id").as_string() == started->id &&
        o.at("action").as_string() == "start")
      ++starts;
    if (!all_seen && host_stats > 0 && container_stats > 0 && starts > 0) {
      all_seen = true;  // reads on for 3 s, to see that nothing comes twice
      deadline = std::chrono::steady_clock::now() + 3s;
    }
  }
  ASSERT_TRUE(started) << "b never answered the subscription";
  EXPECT_GT(host_stats, 0) << "no host sample of a's host on b's feed";
  EXPECT_GT(container_stats, 0) << "no container sample of a's host on b's feed";
  EXPECT_EQ(starts, 1) << "the container's start on b's feed, once";
}

TEST_F(replicas, when_the_holder_is_killed_requests_fail_fast_and_the_agent_moves_to_the_other) {
  // The agent knows both; after a drop it waits 3-4 s, so that b is asked while a's hold still stands.
  test_agent agent(a.port(), a.registration_token(), {}, both_urls("3"));
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  // PID 1 of busybox ignores SIGTERM: a stop waits its whole timeout, long enough to be cut off.
  scoped_container slow("replica-slow", "sleep 300");

  // A stop in flight through b, to a, when a dies.
  auto in_flight = std::async(std::launch::async, [&] {
    return timed([&] { return b.post("/api/hosts/" + host_id + "/containers/replica-slow/stop?timeout=20"); });
  });
  std::this_thread::sleep_for(1500ms);
  a.kill_hard();
  auto cut_off = in_flight.get();
  EXPECT_EQ(cut_off.response.status, 502u) << cut_off.response.body;
  EXPECT_LT(cut_off.took, 5s) << "the caller waited for a dead replica";

  // Asked while a's hold stands and the agent has not come over yet: 502 at once, not a hang.
  auto early = timed([&] { return b.get("/api/hosts/" + host_id + "/containers"); });
  EXPECT_EQ(early.response.status, 502u) << early.response.body;
  EXPECT_LT(early.took, 2s);

  // The agent reconnects to b within its backoff, as the same host.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  http_response listed;
  do {
    std::this_thread::sleep_for(300ms);
    listed = b.get("/api/hosts/" + host_id + "/containers");
  } while (listed.status != 200 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(listed.status, 200u) << listed.body << agent.log();
  EXPECT_NE(listed.body.find("replica-slow"), std::string::npos);
  EXPECT_EQ(b.hosts().size(), 1u) << "registered twice";
  EXPECT_EQ(one(b, "SELECT COUNT(*) FROM agents"), "1");
  auto on_b = b.post("/api/hosts/" + host_id + "/containers/replica-slow/stop?timeout=1");
  EXPECT_EQ(on_b.status, 200u) << on_b.body;
  EXPECT_EQ(docker_inspect("replica-slow", "{{.State.Running}}"), "false");
}

TEST_F(replicas, behind_haproxy_an_agent_and_its_requests_find_the_replica_left_when_one_dies) {
  test_balancer lb({port_a_, port_b_});
  test_agent agent(lb.port(), a.registration_token());
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  const auto through_lb = [&](const std::string& target) {
    return http_request(lb.port(), http::verb::get, target, {}, {{"Cookie", a.cookie()}}, 10s);
  };
  // Round robin sends these to both replicas; whichever holds the agent, each answers.
  for (int i = 0; i < 4; ++i) {
    auto listed = through_lb("/api/hosts/" + host_id + "/containers");
    EXPECT_EQ(listed.status, 200u) << listed.body;
  }

  const auto holder = one(a, "SELECT r.address FROM agent_holders h JOIN replicas r ON r.id = h.replica_id");
  ASSERT_TRUE(holder == a.url() || holder == b.url()) << holder;
  test_server& gone = holder == a.url() ? a : b;
  test_server& left = holder == a.url() ? b : a;
  gone.kill_hard();

  // haproxy takes the dead one out; the agent comes back through it to the one left, as the same host.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int in_a_row = 0;
  while (in_a_row < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    in_a_row = through_lb("/api/hosts/" + host_id + "/containers").status == 200 ? in_a_row + 1 : 0;
  }
  EXPECT_EQ(in_a_row, 4) << agent.log();
  EXPECT_EQ(one(left, "SELECT r.address FROM agent_holders h JOIN replicas r ON r.id = h.replica_id"), left.url());
  EXPECT_EQ(one(left, "SELECT COUNT(*) FROM agents"), "1") << "registered twice";
  EXPECT_EQ(left.hosts().size(), 1u);
}

TEST_F(replicas, sign_in_attempts_on_either_replica_count_against_one_limit) {
  // Both name the same leader (after a's next beat, which sees b).
  const auto leader_of = [](test_server& server) {
    auto status = server.get("/api/status");
    if (status.status != 200) return std::string();
    return std::string(status.json().at("replica").at("leader").as_string());
  };
  ASSERT_TRUE(wait_until([&] { return !leader_of(a).empty() && leader_of(a) == leader_of(b); }, 10s));
  const auto attempt = [](test_server& server) {
    return http_request(server.port(), http::verb::post, "/api/auth/login", R"({"username":"mallory","password":"guess"})",
                        {{"Content-Type", "application/json"}})
        .status;
  };
  // An account's five quick tries, spread over both replicas, and the sixth is refused on either.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt(i % 2 == 0 ? a : b), 401u) << "try " << i + 1;
  EXPECT_EQ(attempt(a), 429u);
  EXPECT_EQ(attempt(b), 429u);
  // Signing in still works through either (the admin's address signed in before).
  EXPECT_EQ(http_request(b.port(), http::verb::post, "/api/auth/login",
                         std::string(R"({"username":"admin","password":")") + test_admin_password + "\"}",
                         {{"Content-Type", "application/json"}})
                .status,
            200u);
}

TEST_F(replicas, rules_health_checks_and_firing_alerts_reach_the_replica_that_holds_the_agent) {
  test_agent agent(a.port(), a.registration_token(), {}, both_urls("1"));
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  scoped_container web("replica-rule-web", "sleep 300");
  const auto applied = [](test_server& server) {
    return server.proc().log().find("settings changes made on other replicas applied") != std::string::npos;
  };

  // A rule made on b, whose container events only a hears: a applies it at its next beat.
  auto rule = b.post("/api/alert-rules", R"({"name":"stopped","kind":"container_stopped","scope":{"name":"replica-rule-*"}})");
  ASSERT_EQ(rule.status, 201u) << rule.body;
  ASSERT_TRUE(wait_until([&] { return applied(a); }, 10s)) << a.proc().log();
  ASSERT_TRUE(wait_until([&] { return event_seen(a, web.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill replica-rule-web").exit_code, 0);
  auto fired = wait_for_alert(a, "replica-rule-web", "firing", 20s);
  ASSERT_TRUE(fired) << a.get("/api/alerts").body;
  EXPECT_EQ(fired->at("rule_id"), rule.json().at("id"));

  // A health check set through b is stored by a, which holds the agent; b applies it at its next beat,
  // and serves it from its own book once the agent is b's.
  const std::string check = "/api/hosts/" + host_id + "/containers/replica-rule-web/health-check";
  auto set = b.put(check, R"({"url":"http://127.0.0.1:9/ready"})");
  ASSERT_EQ(set.status, 200u) << set.body;
  ASSERT_TRUE(wait_until([&] { return applied(b); }, 10s)) << b.proc().log();
  const std::string alert_id(fired->at("id").as_string());
  ASSERT_TRUE(wait_until([&] { return one(b, "SELECT state FROM alerts WHERE id = '" + alert_id + "'") == "firing"; }, 10s));
  a.kill_hard();
  http_response on_b;
  ASSERT_TRUE(wait_until([&] { return (on_b = b.get(check)).status != 502; }, 30s)) << agent.log();
  ASSERT_EQ(on_b.status, 200u) << on_b.body;
  EXPECT_NE(on_b.body.find("127.0.0.1:9/ready"), std::string::npos) << on_b.body;

  // The alert a raised went with the agent: b ends it when the container starts again.
  scoped_container probe("replica-rule-probe", "sleep 300");
  ASSERT_TRUE(wait_until([&] { return event_seen(b, probe.id, "start"); }, 20s)) << "b hears the agent's events";
  ASSERT_EQ(docker_cli("start replica-rule-web").exit_code, 0);
  auto resolved = wait_for_alert(b, "replica-rule-web", "resolved", 20s);
  ASSERT_TRUE(resolved) << b.get("/api/alerts").body;
  EXPECT_EQ(resolved->at("id"), fired->at("id"));
}

TEST_F(replicas, a_host_whose_agent_stops_is_one_alert_and_one_message_whichever_replica_counts_it) {
  receiver hook;
  auto channel = a.post("/api/notification-channels",
                        R"({"name":"hook","type":"webhook","config":{"url":")" + hook.url() + "\"}}");
  ASSERT_EQ(channel.status, 201u) << channel.body;
  auto rule = a.post("/api/alert-rules", R"({"name":"down","kind":"host_down","fire_after_seconds":2,"channel_ids":[")" +
                                             std::string(channel.json().at("id").as_string()) + "\"]}");
  ASSERT_EQ(rule.status, 201u) << rule.body;
  test_agent agent(a.port(), a.registration_token());
  auto host = a.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  const std::string host_name(host->at("name").as_string());
  // b starts knowing the rule and the host, whose agent a holds: it must not count it away.
  b.restart(replica_env(port_b_));
  std::this_thread::sleep_for(5s);
  EXPECT_TRUE(alerts_on(a, host_name).empty()) << a.get("/api/alerts").body;

  // The agent stops: one replica counts the host away, so one alert and one message.
  agent.proc().stop();
  auto down = wait_for_alert(a, host_name, "firing", 30s);
  ASSERT_TRUE(down) << a.get("/api/alerts").body;
  ASSERT_TRUE(hook.wait_for(1, 15s));
  std::this_thread::sleep_for(7s);  // two beats more and the grace again
  EXPECT_EQ(one(a, "SELECT COUNT(*) FROM alerts WHERE kind = 'host_down'"), "1");
  EXPECT_EQ(hook.requests().size(), 1u) << "a message per replica";

  // The leader keeps the alert; acknowledged through the other replica, it is acknowledged there.
  const auto leader_url = one(a, "SELECT address FROM replicas ORDER BY id LIMIT 1");
  test_server& other = leader_url == a.url() ? b : a;
  const std::string alert_id(down->at("id").as_string());
  auto ack = other.post("/api/alerts/" + alert_id + "/acknowledge");
  EXPECT_EQ(ack.status, 200u) << ack.body;
  EXPECT_TRUE(wait_until([&] { return one(a, "SELECT acknowledged_by FROM alerts WHERE id = '" + alert_id + "'") == "admin"; }, 5s));

  // Back (through a): the one alert is resolved.
  agent.restart();
  auto up = wait_for_alert(a, host_name, "resolved", 30s);
  ASSERT_TRUE(up) << a.get("/api/alerts").body;
  EXPECT_EQ(up->at("id"), down->at("id"));
}
