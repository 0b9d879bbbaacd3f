// Notifications end to end: a real server and agent on the test engine, the docker CLI doing what goes
// wrong, and loopback receivers standing in for the services: an HTTP server that records each request
// whole, and a real SMTP server (Debian's python3-aiosmtpd) that stores each mail in a maildir.
#include "harness.hpp"
#include "receiver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

using alert_host = server_and_agent;

std::string add_channel(test_server& server, const std::string& body) {
  auto res = server.post("/api/notification-channels", body);
  EXPECT_EQ(res.status, 201u) << res.body;
  return res.status == 201 ? std::string(res.json().at("id").as_string()) : std::string();
}

std::string webhook(test_server& server, const receiver& r, const std::string& name = "hook") {
  return add_channel(server, R"({"name":")" + name + R"(","type":"webhook","config":{"url":")" + r.url() + R"("}})");
}

// A container_stopped rule on containers named `pattern`, telling `channel_id`.
void stopped_rule(test_server& server, const std::string& pattern, const std::string& channel_id, const std::string& extra = {}) {
  auto res = server.post("/api/alert-rules", R"({"name":"stopped","kind":"container_stopped","scope":{"name":")" + pattern +
                                                 R"("},"channel_ids":[")" + channel_id + "\"]" + extra + "}");
  ASSERT_EQ(res.status, 201u) << res.body;
}


// Kills a container once the server has seen it start (the agent's event stream is open by then).
void kill_when_watched(alert_host& h, const scoped_container& c) {
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill " + c.name).exit_code, 0);
}

// The outbox rows, newest first.
json::array notifications(test_server& server, const std::string& query = {}) {
  auto res = server.get("/api/notifications" + query);
  EXPECT_EQ(res.status, 200u) << res.body;
  return res.status == 200 ? res.json().as_array() : json::array{};
}

bool port_open(unsigned short port) {
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

}  // namespace

TEST(notify, a_killed_container_sends_one_message_naming_it_and_its_start_one_all_clear) {
  alert_host h;
  receiver hook;
  const auto channel = webhook(h.server, hook);
  stopped_rule(h.server, "it-notify-kill", channel);
  scoped_container c("it-notify-kill", "sleep 100000");
  kill_when_watched(h, c);

  ASSERT_TRUE(hook.wait_for(1, 20s)) << h.server.get("/api/notifications").body;
  auto first = hook.requests().at(0);
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.target, "/hook");
  EXPECT_EQ(first.headers["content-type"], "application/json");
  const auto fired = first.json().as_object();
  EXPECT_EQ(fired.at("event").as_string(), "fired");
  EXPECT_EQ(fired.at("host_name").as_string(), h.host_name);
  EXPECT_EQ(fired.at("host_id").as_string(), h.host_id);
  EXPECT_EQ(fired.at("container_name").as_string(), "it-notify-kill");
  EXPECT_EQ(fired.at("container_id").as_string(), c.id);
  EXPECT_NE(fired.at("title").as_string().find("exit code 137"), std::string::npos) << fired;
  EXPECT_EQ(fired.at("severity").as_string(), "error");

  ASSERT_EQ(docker_cli("start it-notify-kill").exit_code, 0);
  ASSERT_TRUE(hook.wait_for(2, 20s));
  const auto resolved = hook.requests().at(1).json().as_object();
  EXPECT_EQ(resolved.at("event").as_string(), "resolved");
  EXPECT_EQ(resolved.at("alert_id"), fired.at("alert_id")) << "the all-clear of the same alert";
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(hook.requests().size(), 2u) << "one message each, never doubled";
  auto rows = notifications(h.server);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("state").as_string(), "sent");
  EXPECT_EQ(rows[1].at("state").as_string(), "sent");
  EXPECT_NE(h.server.get("/metrics").body.find("dockmon_notifications_total{outcome=\"sent\"} 2\n"), std::string::npos);
}

TEST(notify, a_service_failing_then_working_gets_the_message_once_and_a_429_is_waited_out) {
  alert_host h;
  receiver hook;
  hook.script({{500, {}}, {429, {{"Retry-After", "3"}}}, {200, {}}});
  stopped_rule(h.server, "it-notify-retry", webhook(h.server, hook));
  scoped_container c("it-notify-retry", "sleep 100000");
  kill_when_watched(h, c);

  ASSERT_TRUE(hook.wait_for(3, 30s)) << h.server.get("/api/notifications").body;
  const auto got = hook.requests();
  EXPECT_EQ(got[0].body, got[1].body) << "a retry says the same";
  EXPECT_EQ(got[1].body, got[2].body);
  EXPECT_GE(got[1].at - got[0].at, 4500ms) << "backoff after a 500";
  EXPECT_GE(got[2].at - got[1].at, 2500ms) << "Retry-After: 3 waited out";
  EXPECT_LT(got[2].at - got[1].at, 10s) << "Retry-After: 3, not the 15 s backoff of a second failure";
  ASSERT_TRUE(wait_until([&] { return notifications(h.server).at(0).at("state").as_string() == "sent"; }, 10s));
  auto row = notifications(h.server).at(0);
  EXPECT_EQ(row.at("attempts").as_int64(), 3);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(hook.requests().size(), 3u) << "delivered once, then never again";
}

TEST(notify, a_message_not_yet_delivered_when_the_server_is_killed_is_delivered_after_the_restart) {
  alert_host h;
  receiver hook;
  hook.script({{200, {}, true}});  // the first request is never answered: the server dies with it in flight
  stopped_rule(h.server, "it-notify-crash", webhook(h.server, hook));
  scoped_container c("it-notify-crash", "sleep 100000");
  kill_when_watched(h, c);
  ASSERT_TRUE(hook.wait_for(1, 20s));
  h.server.kill_hard();
  h.server.restart();
  ASSERT_TRUE(hook.wait_for(2, 30s)) << "sent again after the restart";
  EXPECT_EQ(hook.requests()[1].body, hook.requests()[0].body);
  ASSERT_TRUE(wait_until([&] {
    auto rows = notifications(h.server);
    return rows.size() == 1 && rows[0].at("state").as_string() == "sent";
  }, 10s)) << h.server.get("/api/notifications").body;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(hook.requests().size(), 2u) << "answered once, and not sent again";
}

TEST(notify, channels_keep_their_secrets_sealed_masked_and_are_checked) {
  test_server server;
  receiver hook;
  const auto id = add_channel(server, R"({"name":"ops","type":"webhook","config":{"url":")" + hook.url("/secret-path-42") +
                                          R"(","headers":{"Authorization":"Bearer tok-123"}}})");
  auto shown = server.get("/api/notification-channels/" + id);
  ASSERT_EQ(shown.status, 200u);
  EXPECT_EQ(shown.body.find("secret-path-42"), std::string::npos) << shown.body;
  EXPECT_EQ(shown.body.find("tok-123"), std::string::npos) << shown.body;
  EXPECT_EQ(shown.json().at("config").at("url").as_string(), "********");
  EXPECT_EQ(server.get("/api/notification-channels").body.find("secret-path-42"), std::string::npos);
  const auto stored = server.sql("SELECT sealed_config FROM notification_channels");
  EXPECT_EQ(stored.find("secret-path-42"), std::string::npos) << "sealed in the database: " << stored;
  EXPECT_NE(stored.find("v1:"), std::string::npos);

  // A rename sends the masks back: the secrets stay as they were, as the test message shows.
  auto renamed = server.request(http::verb::patch, "/api/notification-channels/" + id,
                                R"({"name":"ops 2","config":{"url":"********","headers":{"Authorization":"********"}}})",
                                {{"Cookie", server.cookie()}});
  ASSERT_EQ(renamed.status, 200u) << renamed.body;
  auto test = server.post("/api/notification-channels/" + id + "/test");
  ASSERT_EQ(test.status, 200u) << test.body;
  ASSERT_TRUE(hook.wait_for(1, 5s));
  EXPECT_EQ(hook.requests()[0].target, "/secret-path-42");
  EXPECT_EQ(hook.requests()[0].headers["authorization"], "Bearer tok-123");
  EXPECT_EQ(hook.requests()[0].json().at("event").as_string(), "test");

  hook.script({{401, {}}});
  auto refused = server.post("/api/notification-channels/" + id + "/test");
  EXPECT_EQ(refused.status, 502u);
  EXPECT_NE(refused.body.find("HTTP 401"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("secret-path-42"), std::string::npos) << "no secret in an error";

  EXPECT_EQ(server.post("/api/notification-channels", R"({"name":"x","type":"carrier_pigeon","config":{}})").status, 400u);
  auto no_url = server.post("/api/notification-channels", R"({"name":"x","type":"slack","config":{}})");
  EXPECT_EQ(no_url.status, 400u);
  EXPECT_NE(no_url.body.find("webhook_url"), std::string::npos) << no_url.body;
  EXPECT_EQ(server.post("/api/notification-channels", R"({"name":"x","type":"webhook","config":{"url":"file:///etc/passwd"}})").status,
            400u);
  auto shoutrrr = server.post("/api/notification-channels", R"({"name":"d","url":"discord://tok@123456"})");
  ASSERT_EQ(shoutrrr.status, 201u) << shoutrrr.body;
  EXPECT_EQ(shoutrrr.json().at("type").as_string(), "discord");
  EXPECT_EQ(server.post("/api/alert-rules", R"({"name":"r","kind":"container_stopped","channel_ids":["nope"]})").status, 400u)
      << "a rule names only channels that exist";
  const std::map<std::string, std::string> viewer{{"Authorization", "Bearer " + server.api_key("viewer")}};
  EXPECT_EQ(server.request(http::verb::post, "/api/notification-channels/" + id + "/test", "{}", viewer).status, 403u);
  EXPECT_EQ(server.del("/api/notification-channels/" + id).status, 200u);
  EXPECT_EQ(server.get("/api/notification-channels/" + id).status, 404u);
  auto audit = server.get("/api/audit");
  EXPECT_NE(audit.body.find("create_channel"), std::string::npos);
  EXPECT_NE(audit.body.find("test_channel"), std::string::npos);
  EXPECT_EQ(audit.body.find("tok-123"), std::string::npos);
}

TEST(notify, an_email_goes_through_a_real_smtp_server_with_starttls) {
  const auto dir = make_temp_dir("smtp");
  ASSERT_EQ(shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + dir + "/key.pem -out " + dir +
                  "/cert.pem 2>&1")
                .exit_code,
            0);
  // aiosmtpd's Mailbox makes the maildir (new, cur, tmp) only when the folder is not there yet.
  const auto port = free_port();
  process smtp("/usr/bin/python3",
               {"-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port), "--tlscert", dir + "/cert.pem", "--tlskey",
                dir + "/key.pem", "-c", "aiosmtpd.handlers.Mailbox", dir + "/maildir"},
               {}, dir + "/smtp.log");
  ASSERT_TRUE(wait_until([&] { return port_open(port); }, 10s))
      << smtp.log();

  test_server server;
  const auto id = add_channel(server, R"({"name":"mail","type":"smtp","config":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                                          R"(,"security":"starttls","verify_tls":false,"from":"dockmon@example.test","to":["ops@example.test"]}})");
  auto sent = server.post("/api/notification-channels/" + id + "/test");
  ASSERT_EQ(sent.status, 200u) << sent.body << smtp.log();
  std::string mail;
  ASSERT_TRUE(wait_until([&] {
    std::error_code missing;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/maildir/new", missing)) {
      std::ifstream in(f.path());
      std::stringstream text;
      text << in.rdbuf();
      mail = text.str();
      return true;
    }
    return false;
  }, 10s));
  EXPECT_NE(mail.find("Subject: DockMon test message for mail"), std::string::npos) << mail;
  EXPECT_NE(mail.find("To: ops@example.test"), std::string::npos) << mail;
  EXPECT_NE(mail.find("From: dockmon@example.test"), std::string::npos) << mail;
  EXPECT_NE(mail.find("channel \"mail\" works"), std::string::npos) << mail;

  // STARTTLS asked for is STARTTLS required: a server without it is refused, not sent the mail in clear.
  const auto plain_port = free_port();
  process plain("/usr/bin/python3",
                {"-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(plain_port), "-c", "aiosmtpd.handlers.Mailbox",
                 dir + "/maildir"},
                {}, dir + "/plain.log");
  ASSERT_TRUE(wait_until([&] { return port_open(plain_port); }, 10s));
  auto patched = server.request(http::verb::patch, "/api/notification-channels/" + id,
                                R"({"config":{"port":)" + std::to_string(plain_port) + "}}", {{"Cookie", server.cookie()}});
  ASSERT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(server.post("/api/notification-channels/" + id + "/test").status, 502u);
}

TEST(notify, a_blackout_window_and_a_snooze_keep_messages_back_while_alerts_still_fire) {
  alert_host h;
  receiver hook;
  stopped_rule(h.server, "it-notify-quiet", webhook(h.server, hook), R"(,"cooldown_seconds":0)");
  // All day, every day, in Berlin's time: whatever the hour of the test.
  auto window = h.server.post("/api/blackouts", R"({"name":"all day","start":"00:00","end":"00:00","time_zone":"Europe/Berlin"})");
  ASSERT_EQ(window.status, 201u) << window.body;
  EXPECT_EQ(window.json().at("days").as_array().size(), 7u);
  EXPECT_EQ(h.server.post("/api/blackouts", R"({"name":"x","start":"22:00","end":"06:00","time_zone":"Nowhere/Land"})").status, 400u);

  scoped_container c("it-notify-quiet", "sleep 100000");
  kill_when_watched(h, c);
  ASSERT_TRUE(wait_until([&] { return h.server.get("/api/alerts?state=firing").body.find("it-notify-quiet") != std::string::npos; }, 20s));
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(hook.requests().empty()) << "the alert fired, and nobody was told";

  ASSERT_EQ(h.server.del("/api/blackouts/" + std::string(window.json().at("id").as_string())).status, 200u);
  EXPECT_EQ(h.server.get("/api/blackouts").json().as_array().size(), 0u);
  ASSERT_EQ(docker_cli("start it-notify-quiet").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return h.server.get("/api/alerts?state=firing").json().as_array().empty(); }, 20s));
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(hook.requests().empty()) << "no all-clear for an alarm nobody heard";

  // Outside any window: told. Snoozed: the all-clear waits with everything else.
  ASSERT_EQ(docker_cli("kill it-notify-quiet").exit_code, 0);
  ASSERT_TRUE(hook.wait_for(1, 20s));
  const std::string alert_id(hook.requests()[0].json().at("alert_id").as_string());
  ASSERT_EQ(h.server.post("/api/alerts/" + alert_id + "/snooze", R"({"minutes":30})").status, 200u);
  ASSERT_EQ(docker_cli("start it-notify-quiet").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return h.server.get("/api/alerts?state=firing").json().as_array().empty(); }, 20s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(hook.requests().size(), 1u) << "a snoozed alert's end is not announced";
}

TEST(notify, many_containers_of_a_host_going_down_together_make_one_message_after_the_first) {
  // As a dockerd restart does: five watched containers die at once.
  test_server server(env_map{{"DOCKMON_NOTIFY_BURST_WINDOW", "3s"}});
  test_agent agent(server.port(), server.registration_token());
  ASSERT_TRUE(server.wait_for_engine(engine_id())) << agent.log();
  receiver hook;
  stopped_rule(server, "it-notify-burst-*", webhook(server, hook));
  std::vector<std::unique_ptr<scoped_container>> containers;
  std::string names;
  for (int i = 0; i < 5; ++i) {
    containers.push_back(std::make_unique<scoped_container>("it-notify-burst-" + std::to_string(i), "sleep 100000"));
    names += " " + containers.back()->name;
  }
  for (const auto& c : containers) ASSERT_TRUE(wait_until([&] { return event_seen(server, c->id, "start"); }, 20s));
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(docker_cli("kill" + names).exit_code, 0);

  ASSERT_TRUE(hook.wait_for(2, 20s)) << server.get("/api/notifications").body;
  std::this_thread::sleep_for(4s);
  const auto got = hook.requests();
  ASSERT_EQ(got.size(), 2u) << "the first at once, the other four as one";
  EXPECT_EQ(got[0].json().at("event").as_string(), "fired");
  EXPECT_LT(got[0].at - killed_at, 2s);
  const auto grouped = got[1].json().as_object();
  EXPECT_EQ(grouped.at("event").as_string(), "grouped");
  EXPECT_TRUE(std::string(grouped.at("title").as_string()).starts_with("[error] 4 alerts on ")) << grouped;
  EXPECT_GE(got[1].at - got[0].at, 2500ms) << "at the end of the burst window";
  std::size_t named = 0;
  for (const auto& c : containers) named += grouped.at("text").as_string().find(c->name) != std::string::npos ? 1 : 0;
  EXPECT_EQ(named, 4u) << grouped.at("text");
  auto rows = notifications(server);
  ASSERT_EQ(rows.size(), 5u) << "every alert keeps its own delivery record";
  for (const auto& row : rows) EXPECT_EQ(row.at("state").as_string(), "sent");
}

TEST(notify, an_acknowledge_link_in_a_message_asks_first_then_works_once) {
  const auto port = free_port();
  const auto url = "http://127.0.0.1:" + std::to_string(port);
  test_server server(env_map{{"DOCKMON_PUBLIC_URL", url}, {"DOCKMON_NOTIFY_ACK_LINKS", "true"}}, {}, port);
  test_agent agent(server.port(), server.registration_token());
  ASSERT_TRUE(server.wait_for_engine(engine_id())) << agent.log();
  receiver hook;
  stopped_rule(server, "it-notify-ack", webhook(server, hook));
  scoped_container c("it-notify-ack", "sleep 100000");
  ASSERT_TRUE(wait_until([&] { return event_seen(server, c.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-notify-ack").exit_code, 0);
  ASSERT_TRUE(hook.wait_for(1, 20s));
  const auto fired = hook.requests()[0].json().as_object();
  EXPECT_EQ(fired.at("link").as_string(), url + "/#/alerts/" + std::string(fired.at("alert_id").as_string()));
  const std::string text(fired.at("text").as_string());
  const auto at = text.find(url + "/api/alerts/");
  ASSERT_NE(at, std::string::npos) << text;
  const auto link = text.substr(at + url.size(), text.find('\n', at) - at - url.size());  // the path and query

  auto page = http_request(port, http::verb::get, link);
  EXPECT_EQ(page.status, 200u) << page.body;
  EXPECT_NE(page.body.find("Acknowledge this alert?"), std::string::npos);
  EXPECT_NE(page.body.find("it-notify-ack"), std::string::npos);
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
  auto alert = server.get("/api/alerts?state=firing").json().as_array().at(0).as_object();
  EXPECT_TRUE(alert.at("acknowledged_at").is_null()) << "opening the link acknowledges nothing by itself";

  auto forged = link;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(http_request(port, http::verb::post, forged, {}, {{"Origin", url}}).status, 403u);
  auto done = http_request(port, http::verb::post, link, {}, {{"Origin", url}});
  EXPECT_EQ(done.status, 200u) << done.body;
  EXPECT_NE(done.body.find("Acknowledged"), std::string::npos);
  alert = server.get("/api/alerts?state=firing").json().as_array().at(0).as_object();
  EXPECT_EQ(alert.at("acknowledged_by").as_string(), "a link in a notification");
  EXPECT_EQ(http_request(port, http::verb::post, link, {}, {{"Origin", url}}).status, 409u) << "once";
  EXPECT_EQ(http_request(port, http::verb::post, link, {}, {{"Origin", "https://evil.example"}}).status, 403u)
      << "another site's page cannot post it";
  EXPECT_NE(server.get("/api/audit").body.find("by a link in a notification"), std::string::npos);
}

TEST(notify, a_snoozed_rule_stays_quiet_across_a_restart_until_it_is_woken) {
  alert_host h;
  receiver hook;
  stopped_rule(h.server, "it-notify-rule-snooze", webhook(h.server, hook), R"(,"cooldown_seconds":0)");
  const std::string rule_id(h.server.get("/api/alert-rules").json().as_array().at(0).at("id").as_string());
  EXPECT_EQ(h.server.post("/api/alert-rules/" + rule_id + "/snooze", R"({"minutes":-1})").status, 400u);
  EXPECT_EQ(h.server.post("/api/alert-rules/no-such-rule/snooze", R"({"minutes":5})").status, 404u);
  auto snoozed = h.server.post("/api/alert-rules/" + rule_id + "/snooze", R"({"minutes":30})");
  ASSERT_EQ(snoozed.status, 200u) << snoozed.body;
  EXPECT_TRUE(snoozed.json().at("snoozed_until").is_string()) << snoozed.body;

  h.server.restart();  // the snooze is kept with the rule
  ASSERT_TRUE(h.server.wait_for_host(h.host_id, "online", 20s));
  EXPECT_TRUE(h.server.get("/api/alert-rules").json().as_array().at(0).at("snoozed_until").is_string());
  scoped_container c("it-notify-rule-snooze", "sleep 100000");
  kill_when_watched(h, c);
  ASSERT_TRUE(wait_until([&] { return h.server.get("/api/alerts?state=firing").body.find("it-notify-rule-snooze") != std::string::npos; }, 20s));
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(hook.requests().empty()) << "the alert fired, and the snoozed rule told nobody";

  auto woken = h.server.post("/api/alert-rules/" + rule_id + "/snooze", R"({"minutes":0})");
  ASSERT_EQ(woken.status, 200u) << woken.body;
  EXPECT_TRUE(woken.json().at("snoozed_until").is_null());
  ASSERT_EQ(h.server.get("/api/alerts?state=firing").json().as_array().size(), 1u) << "waking a rule does not end its alerts";
  ASSERT_EQ(docker_cli("start it-notify-rule-snooze").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-notify-rule-snooze").exit_code, 0);
  ASSERT_TRUE(hook.wait_for(1, 20s)) << "awake: told again";
  EXPECT_EQ(hook.requests()[0].json().at("event").as_string(), "fired");
  const auto audit = h.server.get("/api/audit").body;
  EXPECT_NE(audit.find("snooze_alert_rule"), std::string::npos) << audit;
}
