// Live telemetry end to end: stats of real containers, events (across a dockerd restart), history that
// survives a server restart, the browser feed, and /metrics scraped by a real Prometheus.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <map>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <vector>

using namespace dockmon;
using namespace dockmon::test;

namespace {

// A server and an agent sampling every second.
struct live_host {
  live_host() : agent(server.port(), server.registration_token(), {}, {{"STATS_INTERVAL", "1s"}}) {
    auto host = server.wait_for_engine(engine_id());
    if (!host) throw std::runtime_error("agent did not come online: " + agent.log());
    host_id = std::string(host->at("id").as_string());
  }
  json::array container_stats() {
    auto res = server.get("/api/hosts/" + host_id + "/stats");
    if (res.status != 200) return {};
    return res.json().at("containers").as_array();
  }
  std::optional<json::object> stats_of(const std::string& id) {
    for (auto& c : container_stats())
      if (c.at("container_id").as_string() == id) return c.as_object();
    return std::nullopt;
  }
  bool has_event(const std::string& container_id, const std::string& action) {
    auto res = server.get("/api/events?host_id=" + host_id + "&container_id=" + container_id + "&limit=100");
    if (res.status != 200) return false;
    auto list = res.json();
    for (auto& e : list.as_array())
      if (e.at("action").as_string() == action) return true;
    return false;
  }
  test_server server;
  test_agent agent;
  std::string host_id;
};

}  // namespace

TEST(telemetry, containers_enter_and_leave_the_stats_without_listing) {
  live_host live;
  ASSERT_TRUE(wait_until([&] { return live.server.get("/api/hosts/" + live.host_id + "/stats").json().at("host").is_object(); }, 10s))
      << "host stats arrive";
  std::optional<json::object> sample;
  {
    scoped_container c("it-stats-enter", "sleep 100000");
    // Sampled every second: in the stats within an interval or two of its start, no listing needed.
    ASSERT_TRUE(wait_until([&] { return (sample = live.stats_of(c.id)).has_value(); }, 3s)) << live.agent.log();
    EXPECT_EQ(sample->at("container_name").as_string(), "it-stats-enter");
    EXPECT_GT(sample->at("memory_usage").as_double(), 0);
    EXPECT_GT(sample->at("memory_limit").as_double(), sample->at("memory_usage").as_double());
    EXPECT_GE(sample->at("pids").as_double(), 1);
  }
  // scoped_container removed it: gone within an interval or two.
  EXPECT_TRUE(wait_until([&] {
    for (auto& s : live.container_stats())
      if (s.at("container_name").as_string() == "it-stats-enter") return false;
    return true;
  }, 3s));
}

TEST(telemetry, host_list_carries_each_hosts_latest_sample) {
  live_host live;
  ASSERT_TRUE(wait_until([&] { return live.server.get("/api/hosts/" + live.host_id + "/stats").json().at("host").is_object(); }, 10s))
      << "host stats arrive";
  auto list = live.server.get("/api/hosts").json();
  ASSERT_EQ(list.as_array().size(), 1u);
  const auto& stats = list.as_array()[0].at("stats");
  ASSERT_TRUE(stats.is_object()) << list;
  EXPECT_GT(stats.at("cpu_percent").to_number<double>() + stats.at("mem_percent").to_number<double>(), 0) << stats;
  EXPECT_TRUE(stats.as_object().contains("net_bytes_per_sec"));
  EXPECT_FALSE(stats.at("timestamp").as_string().empty());
  auto one = live.server.get("/api/hosts/" + live.host_id).json();
  EXPECT_TRUE(one.at("stats").is_object()) << one;
}

TEST(telemetry, busy_container_shows_cpu) {
  live_host live;
  scoped_container c("it-stats-busy", "while :; do :; done", "--cpus 0.5");
  std::optional<json::object> sample;
  EXPECT_TRUE(wait_until([&] {
    sample = live.stats_of(c.id);
    return sample && sample->at("cpu_percent").as_double() > 30;
  }, 10s)) << (sample ? json::serialize(*sample) : std::string("no sample"));
  EXPECT_LT(sample->at("cpu_percent").as_double(), 70);
}

TEST(telemetry, events_are_stored_and_listed) {
  live_host live;
  scoped_container c("it-events", "sleep 100000");
  ASSERT_TRUE(wait_until([&] { return live.has_event(c.id, "start"); }, 10s)) << live.agent.log();
  docker_cli("kill it-events");
  ASSERT_TRUE(wait_until([&] { return live.has_event(c.id, "die"); }, 10s));
  auto res = live.server.get("/api/events?host_id=" + live.host_id + "&container_id=" + c.id);
  auto list = res.json();
  ASSERT_GE(list.as_array().size(), 2u);
  auto& newest = list.as_array()[0].as_object();
  EXPECT_EQ(newest.at("container_name").as_string(), "it-events");
  EXPECT_EQ(newest.at("image").as_string(), "dockmon-test/busybox:latest");
  EXPECT_EQ(live.server.get("/api/events?limit=0").status, 400u);
  EXPECT_EQ(live.server.get("/api/events?since=yesterday").status, 400u);
  EXPECT_EQ(live.server.get("/api/events?container_id=../x").status, 400u);
  EXPECT_EQ(live.server.request(http::verb::get, "/api/events", {}, {}).status, 401u);
}

TEST(telemetry, events_survive_a_dockerd_restart) {
  live_host live;
  restart_test_engine();
  // Started before the agent's events stream (retrying with backoff) is back.
  scoped_container c("it-events-gap", "sleep 100000");
  EXPECT_TRUE(wait_until([&] { return live.has_event(c.id, "start"); }, 40s)) << live.agent.log();
  EXPECT_TRUE(wait_until([&] { return live.stats_of(c.id).has_value(); }, 10s)) << "and it is sampled";
}

TEST(telemetry, per_container_stats_form_is_ingested) {
  test_server server;
  ws_client fake(server.port());
  fake.send(register_frame(server.registration_token(), "ENGINE:OLDAGENT"));
  auto reply = fake.read_json();
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->at("stats_batch").as_bool()) << "this server advertises the batch form";
  std::string host_id(reply->at("host_id").as_string());
  // DockMon's own agent sends one event per container, and host stats flat.
  fake.send(json::parse(R"({"type":"event","command":"container_stats","payload":{"container_id":"abc123def456",
    "container_name":"web","cpu_percent":12.5,"memory_usage":1048576,"memory_limit":4194304,"memory_percent":25,
    "network_rx":10,"network_tx":20,"disk_read":30,"disk_write":40,"timestamp":"2026-11-27T07:00:00Z"}})"));
  fake.send(json::parse(R"({"type":"stats","stats":{"cpu_percent":33.3,"mem_percent":44.4,"net_bytes_per_sec":555}})"));
  json::object stats;
  ASSERT_TRUE(wait_until([&] {
    stats = server.get("/api/hosts/" + host_id + "/stats").json().as_object();
    return stats.at("containers").as_array().size() == 1 && stats.at("host").is_object();
  }, 5s));
  auto& c = stats.at("containers").as_array()[0];
  EXPECT_EQ(c.at("container_name").as_string(), "web");
  EXPECT_EQ(c.at("cpu_percent").as_double(), 12.5);
  EXPECT_EQ(c.at("memory_usage").as_double(), 1048576);
  EXPECT_EQ(stats.at("host").at("mem_percent").as_double(), 44.4);
  auto history = server.get("/api/hosts/" + host_id + "/containers/abc123def456/stats?range=1h");
  ASSERT_EQ(history.status, 200u) << history.body;
  EXPECT_EQ(history.json().at("points").as_array().size(), 1u);
  EXPECT_EQ(server.get("/api/hosts/" + host_id + "/containers/abc123def456/stats?range=2w").status, 400u);
  // Garbage is ignored, not stored: ids that are not Docker's, a name Docker would refuse, a number that
  // is not one. Frames are handled in order, so once the last (valid) one is in, the others were seen.
  fake.send(json::parse(R"({"type":"event","command":"container_stats","payload":{"container_id":"../etc","cpu_percent":1}})"));
  fake.send(json::parse(R"({"type":"event","command":"container_stats","payload":{"container_id":"x","cpu_percent":1}})"));
  fake.send(json::parse(R"({"type":"event","command":"container_stats","payload":{"container_id":"0123456789ab",
    "container_name":"../../evil","cpu_percent":1}})"));
  fake.send(json::parse(R"({"type":"event","command":"container_stats","payload":{"container_id":"ba9876543210",
    "container_name":"last","cpu_percent":"lots"}})"));
  ASSERT_TRUE(wait_until([&] { return server.get("/api/hosts/" + host_id + "/stats").json().at("containers").as_array().size() >= 2; }, 5s));
  std::map<std::string, double> cpu_of;
  const auto latest = server.get("/api/hosts/" + host_id + "/stats").json();
  for (const auto& s : latest.at("containers").as_array())
    cpu_of[std::string(s.at("container_id").as_string())] = s.at("cpu_percent").as_double();
  EXPECT_EQ(cpu_of.size(), 2u);
  EXPECT_TRUE(cpu_of.contains("abc123def456"));
  ASSERT_TRUE(cpu_of.contains("ba9876543210"));
  EXPECT_EQ(cpu_of["ba9876543210"], 0) << "a value that is not a number reads as 0";
}

TEST(telemetry, history_survives_a_server_restart) {
  live_host live;
  scoped_container c("it-history", "sleep 100000");
  // Wait for the first one-minute bucket to complete and reach the store.
  ASSERT_TRUE(wait_until([&] {
    return live.server.sql("SELECT count(*) FROM stats_rollups WHERE step = 60 AND key LIKE '%" + c.id + "';") != "0\n";
  }, 130s));
  // No agent after the restart: whatever history is there came back from the store.
  live.agent.proc().stop();
  live.server.restart();
  EXPECT_TRUE(live.server.get("/api/hosts/" + live.host_id + "/containers/" + c.id + "/stats?range=1h")
                  .json()
                  .at("points")
                  .as_array()
                  .empty())
      << "raw samples are not persisted";
  auto history = live.server.get("/api/hosts/" + live.host_id + "/containers/" + c.id + "/stats?range=24h");
  ASSERT_EQ(history.status, 200u) << history.body;
  EXPECT_GE(history.json().at("points").as_array().size(), 1u);
}

TEST(telemetry, browser_feed_streams_stats_to_signed_in_users_only) {
  live_host live;
  scoped_container c("it-feed", "sleep 100000");
  EXPECT_THROW(ws_client(live.server.port(), "/ws"), std::exception) << "no cookie, no feed";
  EXPECT_THROW(ws_client(live.server.port(), "/ws", {{"Cookie", live.server.cookie()}, {"Origin", "http://evil.example"}}),
               std::exception)
      << "cross-site pages cannot open it";
  ws_client feed(live.server.port(), "/ws",
                 {{"Cookie", live.server.cookie()}, {"Origin", "http://127.0.0.1:" + std::to_string(live.server.port())}});
  json::object subscribe{{"type", "subscribe"}, {"containers", json::array{json::value(c.id)}}};
  feed.send(subscribe);
  bool subscribed = false, got_stats = false, other_container = false;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline && !(subscribed && got_stats)) {
    auto msg = feed.read_json(3s);
    if (!msg) break;
    auto type = msg->at("type").as_string();
    if (type == "subscribed") subscribed = true;
    if (type == "container_stats") {
      if (msg->at("container_id").as_string() == c.id) got_stats = true;
      else other_container = true;
    }
  }
  EXPECT_TRUE(subscribed);
  EXPECT_TRUE(got_stats);
  EXPECT_FALSE(other_container);
}

TEST(telemetry, browser_feed_can_leave_out_container_stats) {
  live_host live;
  scoped_container running("ui-it-feed-hosts", "sleep 100000");
  ws_client feed(live.server.port(), "/ws",
                 {{"Cookie", live.server.cookie()}, {"Origin", "http://127.0.0.1:" + std::to_string(live.server.port())}});
  json::object bad{{"type", "subscribe"}, {"container_stats", "no"}};
  feed.send(bad);
  auto refused = feed.read_json(3s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->at("type").as_string(), "error");

  // A dashboard's subscription: host stats and events, none of the fleet's container samples.
  json::object hosts_only{{"type", "subscribe"}, {"container_stats", false}};
  feed.send(hosts_only);
  bool subscribed = false, host_stats = false, event = false;
  int container_stats = 0;
  std::optional<scoped_container> started;
  auto deadline = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto msg = feed.read_json(3s);
    if (!msg) break;
    auto type = msg->at("type").as_string();
    if (type == "subscribed" && !subscribed) {
      subscribed = true;
      started.emplace("ui-it-feed-event", "sleep 100000");  // its start must still come through
    }
    if (type == "host_stats") host_stats = true;
    if (type == "container_stats") ++container_stats;
    if (type == "container_event" && started && msg->at("container_id").as_string() == started->id) event = true;
  }
  EXPECT_TRUE(subscribed);
  EXPECT_TRUE(host_stats);
  EXPECT_TRUE(event) << "events still come";
  EXPECT_EQ(container_stats, 0);

  // Subscribing again without the flag brings the container samples back.
  json::object everything{{"type", "subscribe"}};
  feed.send(everything);
  bool got_container_stats = false;
  deadline = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < deadline && !got_container_stats) {
    auto msg = feed.read_json(3s);
    if (!msg) break;
    if (msg->at("type").as_string() == "container_stats" && msg->at("container_id").as_string() == running.id)
      got_container_stats = true;
  }
  EXPECT_TRUE(got_container_stats);
}

TEST(telemetry, prometheus_scrapes_metrics) {
  live_host live;
  scoped_container c("it-prom", "sleep 100000");
  auto key = live.server.api_key("viewer");
  ASSERT_TRUE(wait_until([&] {
    auto m = live.server.request(http::verb::get, "/metrics/containers", {}, {{"Authorization", "Bearer " + key}});
    return m.body.find("container=\"it-prom\"") != std::string::npos;
  }, 10s));
  EXPECT_EQ(live.server.request(http::verb::get, "/metrics", {}, {}).status, 401u);
  EXPECT_EQ(live.server.request(http::verb::get, "/metrics/containers", {}, {}).status, 401u);
  // The default scrape has the hosts, how many containers each reports, and no container of its own.
  const auto hosts_only = live.server.request(http::verb::get, "/metrics", {}, {{"Authorization", "Bearer " + key}}).body;
  EXPECT_EQ(hosts_only.find("dockmon_container_"), std::string::npos) << hosts_only.substr(0, 2000);
  EXPECT_NE(hosts_only.find("dockmon_host_cpu_percent{host_id=\"" + live.host_id + "\""), std::string::npos) << hosts_only.substr(0, 2000);
  EXPECT_NE(hosts_only.find("dockmon_host_containers{host_id=\"" + live.host_id + "\""), std::string::npos);

  auto dir = make_temp_dir("dockmon-it-prom");
  auto port = live.server.port();
  {
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
        << "  - job_name: dockmon\n    metrics_path: /metrics/containers\n    authorization:\n      credentials: " << key << "\n"
        << "    static_configs:\n      - targets: ['127.0.0.1:" << port << "']\n";
  }
  unsigned short prom_port = free_port();
  process prom("/usr/bin/prometheus",
               {"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
               {}, dir + "/prometheus.log");
  std::string answer;
  bool scraped = wait_until([&] {
    try {
      answer = http_request(prom_port, http::verb::get, "/api/v1/query?query=dockmon_container_memory_usage_bytes%7Bcontainer%3D%22it-prom%22%7D", {}, {}, 2s).body;
    } catch (const std::exception&) {
      return false;
    }
    return answer.find("\"container\":\"it-prom\"") != std::string::npos;
  }, 30s);
  EXPECT_TRUE(scraped) << answer << "\n" << prom.log();
  auto up = http_request(prom_port, http::verb::get, "/api/v1/query?query=up%7Bjob%3D%22dockmon%22%7D", {}, {}, 2s).body;
  EXPECT_NE(up.find("\"1\"]"), std::string::npos) << up;
  prom.stop();
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

TEST(telemetry, metrics_has_the_containers_the_operator_chose) {
  test_server server(std::map<std::string, std::string>{{"DOCKMON_METRICS_CONTAINERS", "tag:keep"}});
  test_agent agent(server.port(), server.registration_token(), {}, {{"STATS_INTERVAL", "1s"}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  scoped_container kept("it-metrics-kept", "sleep 100000");
  scoped_container other("it-metrics-other", "sleep 100000");
  auto tagged = server.put("/api/hosts/" + host_id + "/containers/" + kept.id + "/tags", R"({"tags":["keep"]})");
  ASSERT_EQ(tagged.status, 200u) << tagged.body;
  std::string text;
  EXPECT_TRUE(wait_until([&] {
    text = server.get("/metrics/containers").body;
    return text.find("container=\"it-metrics-other\"") != std::string::npos &&
           text.find("container=\"it-metrics-kept\"") != std::string::npos;
  }, 15s)) << "every container is on /metrics/containers";
  text = server.get("/metrics").body;
  EXPECT_NE(text.find("dockmon_container_cpu_percent{host_id=\"" + host_id + "\",host=\""), std::string::npos) << text.substr(0, 3000);
  EXPECT_NE(text.find("container=\"it-metrics-kept\""), std::string::npos) << "the tagged one is on /metrics";
  EXPECT_EQ(text.find("container=\"it-metrics-other\""), std::string::npos) << "the other is not";
  EXPECT_EQ(server.get("/metrics/containers?host=not%20an%20id").status, 400u);
}

namespace {

// A stand-in for DockMon's own backend, which offers no stats batches: it accepts one agent, answers its
// registration with an auth_success that leaves stats_batch out, and collects the frames that follow.
// Only this handshake is faked; the agent, its engine and its samples are real.
class batchless_server {
 public:
  batchless_server() : acceptor_(ioc_, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {}
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the agent, registers it, and reads frames until `done` says so or the deadline passes.
  void serve(const std::function<bool(const json::object&)>& done, std::chrono::seconds deadline) {
    acceptor_.non_blocking(false);
    websocket::stream<beast::tcp_stream> ws(acceptor_.accept());
    beast::get_lowest_layer(ws).expires_after(deadline);
    ws.accept();
    beast::flat_buffer buffer;
    ws.read(buffer);
    auto reg = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
    registered_engine = std::string(reg.at("engine_id").as_string());
    ws.text(true);
    ws.write(net::buffer(json::serialize(json::object{
        {"type", "auth_success"}, {"agent_id", "a-1"}, {"host_id", "h-1"}, {"permanent_token", std::string(43, 'p')}})));
    for (;;) {
      error_code ec;
      ws.read(buffer, ec);
      if (ec) return;
      error_code parse_ec;
      auto v = json::parse(beast::buffers_to_string(buffer.data()), parse_ec);
      buffer.consume(buffer.size());
      if (parse_ec || !v.is_object()) continue;
      frames.push_back(v.as_object());
      if (done(frames.back())) return;
    }
  }

  std::string registered_engine;
  std::vector<json::object> frames;

 private:
  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
};

}  // namespace

TEST(telemetry, against_a_server_without_batches_the_agent_sends_dockmons_per_container_frames) {
  scoped_container c("it-batchless", "while :; do :; done");
  batchless_server server;
  test_agent agent(server.port(), "registration-token-for-the-fake", {},
                   {{"STATS_INTERVAL", "1s"}, {"DOCKMON_URL", "http://127.0.0.1:" + std::to_string(server.port())}});
  std::optional<json::object> mine;
  server.serve(
      [&](const json::object& f) {
        if (f.contains("command") && f.at("command") == "container_stats" && f.at("payload").at("container_id") == json::value(c.id) &&
            f.at("payload").at("cpu_percent").to_number<double>() > 0) {
          mine = f.at("payload").as_object();
          return true;
        }
        return false;
      },
      30s);
  ASSERT_TRUE(mine.has_value()) << "no container_stats frame for the busy container; agent log:\n" << agent.log();
  EXPECT_EQ(server.registered_engine, engine_id());
  EXPECT_EQ(mine->at("container_name").as_string(), "it-batchless");
  EXPECT_GT(mine->at("memory_usage").to_number<double>(), 0);
  for (const char* field : {"container_id", "container_name", "cpu_percent", "memory_usage", "memory_limit", "memory_percent",
                            "network_rx", "network_tx", "disk_read", "disk_write", "timestamp"})
    EXPECT_TRUE(mine->contains(field)) << field;
  for (const auto& f : server.frames)
    EXPECT_NE(f.contains("command") ? std::string(f.at("command").as_string()) : "", "container_stats_batch")
        << "a batch sent to a server that did not offer them";
  // Nor the disks in the host frame: DockMon's backend refuses fields it does not know.
  std::size_t host_frames = 0;
  for (const auto& f : server.frames) {
    if (!f.contains("type") || f.at("type") != "stats") continue;
    ++host_frames;
    EXPECT_FALSE(f.at("stats").as_object().contains("filesystems")) << json::serialize(f);
  }
  EXPECT_GT(host_frames, 0u);
}

TEST(telemetry, a_remote_engine_over_tcp_is_sampled_through_dockers_stats_api) {
  // The test engine reached over TCP (socat in front of its socket), as a remote host's would be: its
  // cgroup files are then out of the agent's reach, and the numbers come from Docker's API.
  const auto port = free_port();
  const auto socket = docker_host().substr(std::string("unix://").size());
  process front("/usr/bin/socat", {"TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:" + socket},
                {}, make_temp_dir("dockmon-it-socat") + "/socat.log");
  ASSERT_TRUE(wait_until([&] { return shell("docker -H tcp://127.0.0.1:" + std::to_string(port) + " version").exit_code == 0; }, 10s));
  scoped_container c("it-remote-busy", "while :; do :; done", "--cpus 0.5");
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {},
                   {{"STATS_INTERVAL", "1s"}, {"DOCKER_HOST", "tcp://127.0.0.1:" + std::to_string(port)}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host.has_value()) << agent.log();
  const std::string host_id(host->at("id").as_string());
  std::optional<json::object> sample;
  ASSERT_TRUE(wait_until([&] {
    auto latest = server.get("/api/hosts/" + host_id + "/stats").json();
    for (const auto& s : latest.at("containers").as_array())
      if (s.at("container_id").as_string() == c.id && s.at("cpu_percent").to_number<double>() > 10) sample = s.as_object();
    return sample.has_value();
  }, 30s)) << agent.log();
  EXPECT_LT(sample->at("cpu_percent").to_number<double>(), 60.0) << "half a CPU";
  EXPECT_GT(sample->at("memory_usage").to_number<double>(), 0);
  EXPECT_NE(agent.log().find("using Docker's one-shot stats API"), std::string::npos) << agent.log();
  // The agent's own disks are not the remote engine's host's.
  EXPECT_TRUE(server.get("/api/hosts/" + host_id + "/stats").json().at("filesystems").as_array().empty());
}
