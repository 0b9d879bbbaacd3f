// The Docker client: address and id validation, HTTP reading from recorded chunked answers over a
// socket pair, and the whole call set against the real dockerd of scripts/test-env.
#include "dockmon/docker/client.hpp"

#include "../src/http_io.hpp"
#include "dockmon/common/env.hpp"

#include <gtest/gtest.h>

#include "dockmon/test/shell.hpp"

#include "dockmon/test/log_frames.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using namespace dockmon;
using namespace dockmon::docker;
using namespace std::chrono_literals;
using local_socket = net::local::stream_protocol::socket;

// Runs one coroutine to completion on ctx and returns its value.
template <class T>
T run(net::io_context& ctx, net::awaitable<T> work) {
  auto done = net::co_spawn(ctx, std::move(work), net::use_future);
  ctx.restart();
  ctx.run();
  return done.get();
}

std::string hex(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

// Chunked encoding of pieces exactly as given, so a test chooses where chunk boundaries fall.
std::string chunked(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += hex(p.size()) + "\r\n" + p + "\r\n";
  return out + "0\r\n\r\n";
}

// Docker's log framing, recorded by hand.
const auto frame = dockmon::test::log_frame;

// The head dockerd 20.10 sends on /events.
const std::string events_head =
    "HTTP/1.1 200 OK\r\n"
    "Api-Version: 1.41\r\n"
    "Content-Type: application/json\r\n"
    "Docker-Experimental: false\r\n"
    "Ostype: linux\r\n"
    "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n";

const std::string start_event =
    R"({"status":"start","id":"5e1f","from":"busybox","Type":"container","Action":"start",)"
    R"("Actor":{"ID":"5e1f","Attributes":{"image":"busybox","name":"web"}},"scope":"local",)"
    R"("time":1700000000,"timeNano":1700000000123456789})"
    "\n";
const std::string die_event =
    R"({"status":"die","id":"5e1f","Type":"container","Action":"die","Actor":{"ID":"5e1f",)"
    R"("Attributes":{"exitCode":"0","name":"web"}},"scope":"local","time":1700000001,"timeNano":1700000001000000000})"
    "\n";

struct socket_pair {
  explicit socket_pair(net::io_context& ctx) : client(ctx), server(ctx) { net::local::connect_pair(client, server); }
  local_socket client;
  local_socket server;
};

using recorded_events = detail::basic_event_stream<detail::unix_stream>;

net::awaitable<result<std::vector<json::object>>> read_all_events(recorded_events& events) {
  if (auto head = co_await events.read_head(); !head) co_return head.error();
  std::vector<json::object> out;
  for (;;) {
    auto e = co_await events.next();
    if (!e) break;
    out.push_back(std::move(*e));
  }
  co_return out;
}

net::awaitable<result<void>> read_head_then_next(recorded_events& events) {
  if (auto head = co_await events.read_head(); !head) co_return head.error();
  auto e = co_await events.next();
  if (!e) co_return e.error();
  co_return result<void>{};
}

net::awaitable<result<client::response>> read_whole(detail::unix_stream& stream, std::size_t limit) {
  beast::flat_buffer buffer;
  co_return co_await detail::read_response(stream, buffer, limit);
}

net::awaitable<result<std::string>> read_logs(detail::unix_stream& stream, bool tty, std::size_t max_bytes) {
  beast::flat_buffer buffer;
  co_return co_await detail::read_logs_answer(stream, buffer, 1024 * 1024, tty, max_bytes);
}

}  // namespace

TEST(parse_docker_host, unix_socket) {
  const auto ep = parse_docker_host("unix:///var/run/docker.sock");
  EXPECT_EQ(ep.type, endpoint::kind::unix_socket);
  EXPECT_EQ(ep.path, "/var/run/docker.sock");
  EXPECT_EQ(ep.describe(), "unix:///var/run/docker.sock");
}

TEST(parse_docker_host, tcp_with_and_without_port) {
  auto ep = parse_docker_host("tcp://10.0.0.5:2376");
  EXPECT_EQ(ep.type, endpoint::kind::tcp);
  EXPECT_EQ(ep.host, "10.0.0.5");
  EXPECT_EQ(ep.port, "2376");
  ep = parse_docker_host("tcp://docker.internal");
  EXPECT_EQ(ep.host, "docker.internal");
  EXPECT_EQ(ep.port, "2375");
  ep = parse_docker_host("tcp://[::1]:2375");
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, "2375");
}

TEST(parse_docker_host, bad_values_throw_config_error) {
  for (const char* bad : {"", "/var/run/docker.sock", "unix://", "unix://relative.sock", "http://host:2375",
                          "tcp://", "tcp://:2375", "tcp://host:port", "tcp://host:0", "tcp://host:70000",
                          "tcp://[::1", "npipe:////./pipe/docker_engine"}) {
    try {
      (void)parse_docker_host(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const config_error& e) {
      EXPECT_EQ(e.setting(), "DOCKER_HOST");
    }
  }
}

TEST(valid_container_ref, accepts_ids_and_names) {
  EXPECT_TRUE(valid_container_ref("5e1f0c0d2a9b"));
  EXPECT_TRUE(valid_container_ref(std::string(64, 'a')));
  EXPECT_TRUE(valid_container_ref("my_web-1.prod"));
  EXPECT_TRUE(valid_container_ref(std::string(255, 'x')));
}

TEST(valid_container_ref, refuses_what_could_change_the_url) {
  for (const std::string& bad : std::vector<std::string>{"", "../etc", "..", ".", "a/../b", "%2e%2e", "a%2fb", "a?all=1", "a#frag", "a b",
                                " a", "/web", "-rf", "_x", "a\nb", "a\\b", std::string(256, 'x'),
                                std::string("a\0b", 3)}) {
    EXPECT_FALSE(valid_container_ref(bad)) << "accepted '" << bad << "'";
  }
}

TEST(chunked_events, chunk_boundaries_inside_an_event) {
  net::io_context ctx;
  socket_pair pair(ctx);
  // Chunk boundaries fall inside the first event's JSON and between two events in one chunk's middle.
  const std::string body = start_event + die_event;
  const auto cut1 = start_event.size() / 2;
  const auto cut2 = start_event.size() + 7;
  net::write(pair.server, net::buffer(events_head + chunked({body.substr(0, cut1), body.substr(cut1, cut2 - cut1),
                                                             body.substr(cut2)})));
  recorded_events events(detail::unix_stream(std::move(pair.client)));
  auto out = run(ctx, read_all_events(events));
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].at("Action"), "start");
  EXPECT_EQ((*out)[0].at("Actor").at("Attributes").at("name"), "web");
  EXPECT_EQ((*out)[1].at("Action"), "die");
}

TEST(chunked_events, end_of_stream_is_an_error) {
  net::io_context ctx;
  socket_pair pair(ctx);
  net::write(pair.server, net::buffer(events_head + chunked({start_event})));
  recorded_events events(detail::unix_stream(std::move(pair.client)));
  ASSERT_TRUE(run(ctx, events.read_head()));
  EXPECT_TRUE(run(ctx, events.next()));
  auto ended = run(ctx, events.next());
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, errc::transport);
}

TEST(chunked_events, error_status_carries_dockers_message) {
  net::io_context ctx;
  socket_pair pair(ctx);
  const std::string body = R"({"message":"invalid filter 'type=bogus'"})" "\n";
  net::write(pair.server, net::buffer("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  recorded_events events(detail::unix_stream(std::move(pair.client)));
  auto head = run(ctx, events.read_head());
  ASSERT_FALSE(head);
  EXPECT_EQ(head.error().code, errc::status);
  EXPECT_EQ(head.error().http_status, 400u);
  EXPECT_NE(head.error().message.find("invalid filter"), std::string::npos);
}

TEST(chunked_events, close_ends_a_pending_next_promptly) {
  net::io_context ctx;
  socket_pair pair(ctx);
  // The head arrives but no event ever does, as on an idle engine.
  net::write(pair.server, net::buffer(events_head));
  recorded_events events(detail::unix_stream(std::move(pair.client)));
  auto waiting = net::co_spawn(ctx, read_head_then_next(events), net::use_future);
  net::steady_timer later(ctx, 50ms);
  later.async_wait([&events](error_code) { events.close(); });
  const auto started = std::chrono::steady_clock::now();
  ctx.run_for(10s);
  ASSERT_EQ(waiting.wait_for(0s), std::future_status::ready);
  auto outcome = waiting.get();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, errc::transport);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(chunked_logs, frames_split_across_chunks) {
  net::io_context ctx;
  socket_pair pair(ctx);
  const std::string frames = frame(1, "hello-out\n") + frame(2, "hello-err\n") + frame(1, "again-out\n");
  // One boundary inside the first header, one inside the second payload.
  net::write(pair.server, net::buffer("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n" +
                                      chunked({frames.substr(0, 3), frames.substr(3, 20), frames.substr(23)})));
  detail::unix_stream stream(std::move(pair.client));
  auto text = run(ctx, read_logs(stream, false, 1024));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "hello-out\nhello-err\nagain-out\n");
}

TEST(chunked_logs, tty_body_and_tail_cap) {
  net::io_context ctx;
  socket_pair pair(ctx);
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "line " + std::to_string(i) + "\r\n";
  net::write(pair.server, net::buffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                      chunked({body.substr(0, 5000), body.substr(5000)})));
  detail::unix_stream stream(std::move(pair.client));
  auto text = run(ctx, read_logs(stream, true, 100));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_LE(text->size(), 100u);
  EXPECT_TRUE(text->starts_with("line ")) << *text;
  EXPECT_TRUE(text->ends_with("line 1999\r\n"));
}

TEST(read_response, status_and_body_limit) {
  net::io_context ctx;
  {
    socket_pair pair(ctx);
    const std::string body = R"({"message":"No such container: nope"})" "\n";
    net::write(pair.server, net::buffer("HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) +
                                        "\r\n\r\n" + body));
    detail::unix_stream stream(std::move(pair.client));
    auto r = run(ctx, read_whole(stream, 1024));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::status);
    EXPECT_EQ(r.error().http_status, 404u);
    EXPECT_NE(r.error().message.find("No such container: nope"), std::string::npos);
  }
  {
    socket_pair pair(ctx);
    net::write(pair.server, net::buffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                        chunked({std::string(600, 'a'), std::string(600, 'b')})));
    detail::unix_stream stream(std::move(pair.client));
    auto r = run(ctx, read_whole(stream, 1000));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::too_large);
  }
  {
    socket_pair pair(ctx);
    net::write(pair.server, net::buffer("HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n"));
    detail::unix_stream stream(std::move(pair.client));
    auto r = run(ctx, read_whole(stream, 1000));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 304u);
  }
  {
    socket_pair pair(ctx);
    net::write(pair.server, net::buffer(std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n")));
    detail::unix_stream stream(std::move(pair.client));
    auto r = run(ctx, read_whole(stream, 1000));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::protocol);
  }
}

TEST(read_response, silent_engine_times_out) {
  net::io_context ctx;
  socket_pair pair(ctx);
  detail::unix_stream stream(std::move(pair.client));
  stream.expires_after(100ms);
  auto r = run(ctx, read_whole(stream, 1000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::transport);
}

TEST(client, refuses_bad_refs_before_sending) {
  net::io_context ctx;
  // Nothing listens here: a request that left would fail with errc::transport, not errc::invalid.
  client c(ctx.get_executor(), parse_docker_host("unix:///nonexistent/docker.sock"));
  EXPECT_EQ(run(ctx, c.inspect_container("../info")).error().code, errc::invalid);
  EXPECT_EQ(run(ctx, c.start_container("a?b")).error().code, errc::invalid);
  EXPECT_EQ(run(ctx, c.rename_container("web", "new/name")).error().code, errc::invalid);
  EXPECT_EQ(run(ctx, c.kill_container("web", "KILL;rm")).error().code, errc::invalid);
  EXPECT_EQ(run(ctx, c.container_logs("", 10, 100)).error().code, errc::invalid);
  EXPECT_EQ(run(ctx, c.info()).error().code, errc::transport);
}

// ---- Against the real engine (scripts/test-env start). ----

namespace {

using dockmon::test::sh;

class real_docker : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = env_value("DOCKMON_TEST_DOCKER_HOST");
    if (!host) GTEST_SKIP() << "DOCKMON_TEST_DOCKER_HOST is not set (scripts/test-env start sets up a dockerd)";
    host_ = *host;
    client_.emplace(ctx_.get_executor(), parse_docker_host(host_));
  }

  void TearDown() override {
    for (const auto& name : created_) sh(docker() + " rm -f " + name);
  }

  std::string docker() const { return "docker -H " + host_; }

  std::string unique_name(const std::string& what) {
    static int counter = 0;
    auto name = "dockmon-docker-test-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    created_.push_back(name);
    return name;
  }

  // Polls a condition until it holds or the deadline passes; the polling interval is not what is tested.
  template <class F>
  bool eventually(F condition, std::chrono::seconds deadline = 20s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (condition()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return condition();
  }

  bool running(const std::string& id) {
    auto inspected = run(ctx_, client_->inspect_container(id));
    return inspected && inspected->at("State").at("Running").as_bool();
  }

  net::io_context ctx_;
  std::optional<client> client_;
  std::string host_;
  std::vector<std::string> created_;
};

// Waits for an event matching id and action, closing the stream at the deadline so next() returns.
net::awaitable<bool> wait_for_event(std::unique_ptr<event_stream> events, std::string id, std::string action) {
  net::steady_timer deadline(co_await net::this_coro::executor, 20s);
  event_stream* raw = events.get();
  deadline.async_wait([raw](error_code ec) {
    if (!ec) raw->close();
  });
  for (;;) {
    auto e = co_await events->next();
    if (!e) co_return false;
    const auto* got_id = e->if_contains("id");
    const auto* got_action = e->if_contains("Action");
    if (got_id != nullptr && got_action != nullptr && *got_id == id.c_str() && *got_action == action.c_str()) {
      deadline.cancel();
      co_return true;
    }
  }
}

}  // namespace

TEST_F(real_docker, engine_answers_info_and_version) {
  auto info = run(ctx_, client_->info());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->at("ID").as_string().empty());
  auto version = run(ctx_, client_->version());
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_TRUE(version->contains("ApiVersion"));
}

TEST_F(real_docker, unknown_container_is_status_404) {
  auto r = run(ctx_, client_->inspect_container("dockmon-no-such-container"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::status);
  EXPECT_EQ(r.error().http_status, 404u);
  EXPECT_NE(r.error().message.find("No such container"), std::string::npos) << r.error().message;
  auto stop = run(ctx_, client_->stop_container("dockmon-no-such-container", 1));
  ASSERT_FALSE(stop);
  EXPECT_EQ(stop.error().http_status, 404u);
}

TEST_F(real_docker, container_lifecycle) {
  const auto name = unique_name("life");
  auto created = sh(docker() + " run -d --network none --name " + name +
                    " dockmon-test/busybox:latest sh -c 'echo hello-out; echo hello-err >&2; sleep 1000'");
  ASSERT_EQ(created.status, 0) << created.out;
  const std::string id = created.out;
  ASSERT_EQ(id.size(), 64u) << id;

  auto list = run(ctx_, client_->list_containers());
  ASSERT_TRUE(list) << list.error().message;
  bool found = false;
  for (const auto& c : *list) found = found || c.at("Id") == id.c_str();
  EXPECT_TRUE(found);

  auto inspected = run(ctx_, client_->inspect_container(name));
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->at("Id"), id.c_str());

  std::string logs;
  EXPECT_TRUE(eventually([&] {
    auto got = run(ctx_, client_->container_logs(id, 100, 64 * 1024));
    if (got) logs = *got;
    return got && logs.find("hello-out\n") != std::string::npos && logs.find("hello-err\n") != std::string::npos;
  })) << logs;

  auto stopped = run(ctx_, client_->stop_container(id, 1));
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_FALSE(running(id));
  // Stopping a stopped container: Docker's 304, which is success.
  EXPECT_TRUE(run(ctx_, client_->stop_container(id, 1)));

  // Opened before the start, so the start event must come through it.
  auto events = run(ctx_, event_stream::open(*client_, {}));
  ASSERT_TRUE(events) << events.error().message;
  auto started = run(ctx_, client_->start_container(id));
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_TRUE(run(ctx_, wait_for_event(std::move(*events), id, "start")));
  EXPECT_TRUE(running(id));
  EXPECT_TRUE(run(ctx_, client_->start_container(id)));  // already running: 304

  auto restarted = run(ctx_, client_->restart_container(id, 1));
  ASSERT_TRUE(restarted) << restarted.error().message;
  EXPECT_TRUE(running(id));

  auto killed = run(ctx_, client_->kill_container(id, "SIGKILL"));
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_TRUE(eventually([&] { return !running(id); }));

  const auto new_name = unique_name("renamed");
  auto renamed = run(ctx_, client_->rename_container(id, new_name));
  ASSERT_TRUE(renamed) << renamed.error().message;
  auto after = run(ctx_, client_->inspect_container(new_name));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->at("Name"), ("/" + new_name).c_str());

  auto removed = run(ctx_, client_->remove_container(id, true));
  ASSERT_TRUE(removed) << removed.error().message;
  auto gone = run(ctx_, client_->inspect_container(id));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().http_status, 404u);
}

TEST_F(real_docker, tty_container_logs_are_not_demultiplexed) {
  const auto name = unique_name("tty");
  auto created = sh(docker() + " run -d -t --network none --name " + name +
                    " dockmon-test/busybox:latest sh -c 'echo tty-line; sleep 1000'");
  ASSERT_EQ(created.status, 0) << created.out;
  std::string logs;
  EXPECT_TRUE(eventually([&] {
    auto got = run(ctx_, client_->container_logs(name, 10, 1024));
    if (got) logs = *got;
    return got && logs.find("tty-line\r\n") != std::string::npos;
  })) << logs;
}
