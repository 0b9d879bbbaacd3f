// The Docker client: address and id validation, HTTP reading from recorded chunked answers over a
// socket pair, and the whole call set against the real dockerd of scripts/test-env, directly and
// through a TLS front (socat with certificates made by the openssl CLI).
#include "dockmon/docker/client.hpp"

#include "../src/http_io.hpp"
#include "dockmon/common/env.hpp"

#include <gtest/gtest.h>

#include "dockmon/test/engine.hpp"
#include "dockmon/test/shell.hpp"

#include "dockmon/test/log_frames.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

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
    DOCKMON_TEST_ENGINE_OR_SKIP(host_);
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

// ---- Over TLS: the real engine behind socat, as a daemon started with --tlsverify is reached. ----

namespace {

// A CA with a daemon certificate for 127.0.0.1 and a client certificate (named as DOCKER_CERT_PATH
// holds them: ca.pem, cert.pem, key.pem), and a second CA that signed a daemon certificate of its own.
class test_pki {
 public:
  test_pki() {
    char tmpl[] = "/tmp/dockmon-docker-tls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    made_ = sh("(set -e; cd " + dir_ +
               "; openssl req -x509 -days 2 " + new_key + " -subj /CN=dockmon-test-ca -keyout ca-key.pem -out ca.pem"
               "; openssl req -x509 -days 2 " + new_key + " -subj /CN=another-ca -keyout other-ca-key.pem -out other-ca.pem"
               "; printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext"
               "; printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
               "; openssl req -new " + new_key + " -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr"
               "; openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2"
               " -extfile server.ext -out server.pem"
               "; openssl x509 -req -in server.csr -CA other-ca.pem -CAkey other-ca-key.pem -CAcreateserial -days 2"
               " -extfile server.ext -out other-server.pem"
               "; openssl req -new " + new_key + " -subj /CN=dockmon-agent -keyout key.pem -out client.csr"
               "; openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2"
               " -extfile client.ext -out cert.pem)");
  }
  ~test_pki() { std::filesystem::remove_all(dir_); }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  const dockmon::test::shell_result& made() const { return made_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  dockmon::test::shell_result made_;
};

// A port the kernel just handed out on 127.0.0.1; socat binds it a moment later (a clash makes socat exit
// and tls_front tries another).
sockaddr_in loopback(unsigned short port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  return addr;
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts_connections(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// socat terminating TLS on 127.0.0.1 (daemon certificate `cert`, client certificates required and
// checked against ca.pem) and forwarding to the engine's unix socket. Runs in a process group of its
// own, so its per-connection children stop with it.
class tls_front {
 public:
  tls_front(const test_pki& pki, const std::string& cert, const std::string& socket_path) {
    const std::string listen_tail = ",bind=127.0.0.1,reuseaddr,fork,cert=" + pki.file(cert) +
                                    ",key=" + pki.file("server-key.pem") + ",cafile=" + pki.file("ca.pem") + ",verify=1";
    const std::string forward = "UNIX-CONNECT:" + socket_path;
    const std::string log = pki.file("socat-" + cert + ".log");
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      const std::string listen = "OPENSSL-LISTEN:" + std::to_string(port_) + listen_tail;
      posix_spawn_file_actions_t files;
      posix_spawn_file_actions_init(&files);
      posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
      posix_spawnattr_t attr;
      posix_spawnattr_init(&attr);
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
      posix_spawnattr_setpgroup(&attr, 0);
      std::vector<char*> argv{const_cast<char*>("socat"), const_cast<char*>(listen.c_str()),
                              const_cast<char*>(forward.c_str()), nullptr};
      pid_t pid = -1;
      const int spawned = posix_spawnp(&pid, "socat", &files, &attr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&files);
      posix_spawnattr_destroy(&attr);
      if (spawned != 0) return;
      if (wait_listening(pid)) pid_ = pid;
    }
  }
  ~tls_front() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  tls_front(const tls_front&) = delete;
  tls_front& operator=(const tls_front&) = delete;

  bool listening() const { return pid_ > 0; }
  std::string docker_host() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  // True once the port takes connections; false (and the process reaped) when socat gave up.
  bool wait_listening(pid_t pid) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
      if (accepts_connections(port_)) return true;
      std::this_thread::sleep_for(20ms);
    }
    ::kill(-pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return false;
  }

  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

class docker_over_tls : public real_docker {
 protected:
  void SetUp() override {
    real_docker::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(host_.starts_with("unix://")) << "the TLS front forwards to a unix socket; got " << host_;
    ASSERT_EQ(sh("command -v socat").status, 0) << "socat is not installed (scripts/install-deps installs it)";
    const auto& made = pki_.emplace().made();
    ASSERT_EQ(made.status, 0) << made.out;
  }

  // A client of the engine behind `front` with the given TLS settings.
  client over(const tls_front& front, tls_options tls, std::string_view host = "127.0.0.1") {
    client_options options;
    options.request_timeout = 10s;
    options.tls = std::move(tls);
    auto where = parse_docker_host(front.docker_host());
    where.host = std::string(host);
    return client(ctx_.get_executor(), where, options);
  }
  tls_options verified() const { return {pki().file("ca.pem"), pki().file("cert.pem"), pki().file("key.pem"), true}; }
  std::string socket_path() const { return host_.substr(std::string_view("unix://").size()); }
  const test_pki& pki() const { return *pki_; }

  std::optional<test_pki> pki_;  // made once the test knows it runs
};

}  // namespace

TEST_F(docker_over_tls, info_list_inspect_and_events_with_the_right_certificates) {
  tls_front front(pki(), "server.pem", socket_path());
  ASSERT_TRUE(front.listening()) << sh("cat " + pki().dir() + "/socat-*.log").out;
  auto engine = over(front, verified());

  auto info = run(ctx_, engine.info());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(std::string(info->at("ID").as_string()), sh(docker() + " info -f '{{.ID}}'").out);

  const auto name = unique_name("tls");
  auto created = sh(docker() + " create --network none --name " + name + " dockmon-test/busybox:latest sleep 1000");
  ASSERT_EQ(created.status, 0) << created.out;
  const std::string id = created.out;

  auto list = run(ctx_, engine.list_containers());
  ASSERT_TRUE(list) << list.error().message;
  bool listed = false;
  for (const auto& c : *list) listed = listed || c.at("Id") == id.c_str();
  EXPECT_TRUE(listed);
  auto inspected = run(ctx_, engine.inspect_container(name));
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->at("Id"), id.c_str());

  // The events stream stays open over TLS: a start made after it opened comes through it.
  auto events = run(ctx_, event_stream::open(engine, {}));
  ASSERT_TRUE(events) << events.error().message;
  auto started = run(ctx_, engine.start_container(id));
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_TRUE(run(ctx_, wait_for_event(std::move(*events), id, "start")));
  EXPECT_EQ(sh(docker() + " inspect -f '{{.State.Running}}' " + id).out, "true");
}

TEST_F(docker_over_tls, client_without_a_certificate_is_refused) {
  tls_front front(pki(), "server.pem", socket_path());
  ASSERT_TRUE(front.listening());
  auto engine = over(front, {pki().file("ca.pem"), "", "", true});
  auto info = run(ctx_, engine.info());
  ASSERT_FALSE(info) << "the front requires a client certificate";
  EXPECT_EQ(info.error().code, errc::transport);
  // Its alert or, when the alert loses the race with the request, a reset: both named as such.
  EXPECT_NE(info.error().message.find("refused this client's TLS certificate, or the lack of one"), std::string::npos)
      << info.error().message;
}

TEST_F(docker_over_tls, engine_certificate_from_another_ca_is_refused_clearly) {
  tls_front front(pki(), "other-server.pem", socket_path());
  ASSERT_TRUE(front.listening());
  auto engine = over(front, verified());
  auto info = run(ctx_, engine.info());
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, errc::transport);
  const auto& why = info.error().message;
  EXPECT_NE(why.find("the engine's certificate is refused"), std::string::npos) << why;
  EXPECT_NE(why.find(pki().file("ca.pem")), std::string::npos) << why;
  // The events stream refuses it the same way.
  auto events = run(ctx_, event_stream::open(engine, {}));
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("the engine's certificate is refused"), std::string::npos);
}

TEST_F(docker_over_tls, engine_certificate_must_name_the_host_dialled) {
  tls_front front(pki(), "server.pem", socket_path());
  ASSERT_TRUE(front.listening());
  // Same daemon, same CA, but the certificate names 127.0.0.1, not localhost.
  auto engine = over(front, verified(), "localhost");
  auto info = run(ctx_, engine.info());
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("mismatch"), std::string::npos) << info.error().message;
}

TEST_F(docker_over_tls, docker_tls_without_verify_talks_to_any_engine) {
  // DOCKER_TLS alone: encrypted, and the engine is not checked, so another CA's daemon is accepted.
  tls_front front(pki(), "other-server.pem", socket_path());
  ASSERT_TRUE(front.listening());
  auto engine = over(front, {"", pki().file("cert.pem"), pki().file("key.pem"), false});
  auto info = run(ctx_, engine.info());
  ASSERT_TRUE(info) << info.error().message;
}

TEST_F(docker_over_tls, unloadable_files_are_config_errors_naming_them) {
  std::ofstream(pki().file("broken.pem")) << "not a certificate\n";
  tls_options broken = verified();
  broken.cert_file = pki().file("broken.pem");
  try {
    client c(ctx_.get_executor(), parse_docker_host("tcp://127.0.0.1:2376"), client_options{.tls = broken});
    ADD_FAILURE() << "a client certificate that does not load must stop the start";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "DOCKER_CERT_PATH");
    EXPECT_NE(std::string(e.what()).find(pki().file("broken.pem")), std::string::npos) << e.what();
  }
  // Another key than the certificate's.
  tls_options mismatched = verified();
  mismatched.key_file = pki().file("server-key.pem");
  EXPECT_THROW(client(ctx_.get_executor(), parse_docker_host("tcp://127.0.0.1:2376"), client_options{.tls = mismatched}),
               config_error);
}
