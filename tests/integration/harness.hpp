// The integration tests' tools: real dockmon-server and dockmon-agent processes on loopback, a small
// HTTP and WebSocket client, the docker CLI as the independent witness, and waits with deadlines.
#pragma once

#include "dockmon/common/net.hpp"

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dockmon::test {

using namespace std::chrono_literals;
using env_map = std::map<std::string, std::string>;

// The test dockerd (scripts/test-env start); fails the test run with a clear message when unset.
std::string docker_host();

// A fresh folder under /tmp, removed by the fixture that made it.
std::string make_temp_dir(const std::string& prefix);

// A loopback port nobody listens on right now (for programs that cannot take port 0).
unsigned short free_port();

// Polls `condition` every 50 ms until it holds or `timeout` passes. True when it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs the docker CLI against the test engine.
command_result docker_cli(const std::string& args);
// Runs a shell command.
command_result shell(const std::string& command);

// A child process with its own environment; output goes to a log file. Killed when destroyed.
class process {
 public:
  process(std::string path, std::vector<std::string> args, std::map<std::string, std::string> env, std::string log_file);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  bool running();
  void signal(int sig);
  // SIGTERM, then SIGKILL after the grace period. Returns the exit status as waitpid gives it.
  int stop(std::chrono::milliseconds grace = 5s);
  std::string log() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_file_;
  std::optional<int> status_;
};

struct http_response {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  json::value json() const;
};

// One request per connection, with a deadline.
http_response http_request(unsigned short port, http::verb method, const std::string& target, const std::string& body = {},
                           const std::map<std::string, std::string>& headers = {}, std::chrono::milliseconds timeout = 60s);

// The same over TLS, trusting whatever certificate the server shows.
http_response https_request(unsigned short port, http::verb method, const std::string& target, const std::string& body = {},
                            const std::map<std::string, std::string>& headers = {}, std::chrono::milliseconds timeout = 60s);

// A raw agent-side WebSocket, to speak the protocol frame by frame.
class ws_client {
 public:
  explicit ws_client(unsigned short port, const std::string& target = "/api/agent/ws",
                     const std::map<std::string, std::string>& headers = {});
  ~ws_client();
  void send(const std::string& text);
  void send(const json::value& v) { send(json::serialize(v)); }
  // Writes only the header of a masked text frame announcing `length` bytes, straight to the socket: how
  // a peer starts a frame larger than the server accepts without writing it all (the server must refuse
  // it on the header; writing it all would end in a reset that loses the server's close frame).
  void send_frame_header(std::uint64_t length);
  // The next text frame, or nullopt when the connection closed (close_code() tells how) or the deadline passed.
  std::optional<std::string> read(std::chrono::milliseconds timeout = 10s);
  std::optional<json::value> read_json(std::chrono::milliseconds timeout = 10s);
  // The health checks the server gives every agent after it registers (health_check_configs_sync) are
  // passed over by read() unless a test asks to see them.
  void keep_health_sync() { keep_health_sync_ = true; }
  // The close code the server sent (0 when none was received), and its reason text.
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  int close_code_ = 0;
  std::string close_reason_;
  bool keep_health_sync_ = false;
};

// A registration frame as our agent would send it, with the given token and engine id.
json::object register_frame(const std::string& token, const std::string& engine_id);

// Runs the test_servers made while it lives on PostgreSQL, whatever DOCKMON_TEST_STORE says for the rest
// of the run.
struct on_postgres_for_this_test {
  on_postgres_for_this_test();
  ~on_postgres_for_this_test();
  on_postgres_for_this_test(const on_postgres_for_this_test&) = delete;
  on_postgres_for_this_test& operator=(const on_postgres_for_this_test&) = delete;
  std::string previous;
};

// Debian's haproxy in front of servers on loopback, as a fleet would run replicas: WebSockets passed
// through, each server checked on /healthz/ready every 300 ms and taken out after two misses.
class test_balancer {
 public:
  explicit test_balancer(const std::vector<unsigned short>& server_ports);
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  unsigned short port_ = 0;
  std::unique_ptr<process> proc_;
};

// The admin password every test_server starts with.
inline constexpr const char* test_admin_password = "integration-admin-pw";

// A dockmon-server on a free loopback port with its own data folder, signed in as admin.
class test_server {
 public:
  explicit test_server(std::map<std::string, std::string> extra_env = {}, std::string data_dir = {},
                       unsigned short port = 0);
  ~test_server();

  unsigned short port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  bool tls() const { return tls_; }
  // The pin the server printed for its certificate (empty without TLS).
  const std::string& public_key_pin() const { return public_key_pin_; }
  std::string url() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }
  process& proc() { return *proc_; }
  void restart(std::map<std::string, std::string> extra_env = {});
  void kill_hard();  // SIGKILL: no goodbye to the agents

  // Requests as the admin (session cookie), or with the given headers instead.
  http_response get(const std::string& target);
  http_response post(const std::string& target, const std::string& body = "{}");
  http_response del(const std::string& target);
  http_response put(const std::string& target, const std::string& body);
  http_response request(http::verb method, const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& headers);

  std::string registration_token();
  std::string api_key(const std::string& role);
  json::array hosts();
  std::optional<json::object> host(const std::string& host_id);
  // Waits until the host shows the wanted status; returns it.
  std::optional<json::object> wait_for_host(const std::string& host_id, const std::string& status,
                                            std::chrono::milliseconds timeout = 20s);
  // Waits for the first host whose agent has this engine id.
  std::optional<json::object> wait_for_engine(const std::string& engine_id, std::chrono::milliseconds timeout = 20s);
  // Runs SQL on the server's database (sqlite3 or psql: rows one a line, columns split by '|').
  std::string sql(const std::string& statement);
  // The server's --database-url: SQLite under its data folder, or, when DOCKMON_TEST_STORE=postgres, a
  // PostgreSQL database of its own on the test environment's server, named in the data folder (so that a
  // server started on the same folder uses the same one), dropped with the folder.
  const std::string& database_url() const { return database_url_; }
  const std::string& cookie() const { return cookie_; }

 private:
  void start(std::map<std::string, std::string> extra_env);
  void sign_in();

  std::string data_dir_;
  std::string database_url_;
  bool own_dir_ = false;
  unsigned short port_ = 0;
  unsigned short wanted_port_ = 0;
  std::unique_ptr<process> proc_;
  std::string cookie_;
  int starts_ = 0;
  bool tls_ = false;
  std::string public_key_pin_;
};

// Self-updates as the server sees them. Whether it shows the host online with its agent on `version`
// within the timeout:
bool agent_runs(test_server& server, const std::string& host_id, const std::string& version,
                std::chrono::milliseconds timeout = 30s);
// The attributes of an agent_update event with this action (completed, failed, rolled_back) stored since
// `since` (ISO 8601), waiting up to the timeout; nullopt when none came.
std::optional<json::object> agent_update_outcome(test_server& server, const std::string& host_id, const std::string& since,
                                                 const std::string& action, std::chrono::milliseconds timeout);

// A dockmon-agent against the test engine; `binary` another build or a copy of it (default: dockmon-agent).
class test_agent {
 public:
  test_agent(unsigned short server_port, std::string token, std::string data_dir = {},
             std::map<std::string, std::string> extra_env = {}, std::string binary = {});
  ~test_agent();
  process& proc() { return *proc_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const { return proc_->log(); }
  // Starts the agent again, as a supervisor would (systemd's Restart=always): the same path, the same
  // environment, the log appended to.
  void restart();

 private:
  std::string data_dir_;
  bool own_dir_ = false;
  std::string binary_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<process> proc_;
};

// A server of its own and an agent on the test engine, registered: for tests that change what the server
// keeps (rules, channels) and so cannot share one.
struct server_and_agent {
  server_and_agent();
  test_server server;
  test_agent agent;
  std::string host_id, host_name;
};

// Whether the server has stored the container's event with this action (so everything fed by events,
// the alert engine among them, has seen it).
bool event_seen(test_server& server, const std::string& container_id, const std::string& action);

// The alerts on `target` (a container's or host's name), newest first.
std::vector<json::object> alerts_on(test_server& server, const std::string& target);
// Waits until the newest alert on `target` is in `state`; the alert, or nullopt on timeout.
std::optional<json::object> wait_for_alert(test_server& server, const std::string& target, const std::string& state,
                                           std::chrono::milliseconds timeout = 20s);

// Stops the test dockerd and starts it again (scripts/test-env), waiting until it answers.
void restart_test_engine();

// The test engine's ID as `docker info` reports it.
std::string engine_id();

// Starts a busybox container (network none unless extra_args names one) running `command`; returns its id. Removed by ~scoped_container.
struct scoped_container {
  scoped_container(const std::string& name, const std::string& command, const std::string& extra_args = {});
  ~scoped_container();
  std::string name;
  std::string id;
};
std::string docker_inspect(const std::string& name, const std::string& format);

// A suite's one server and one agent on the test engine, set up once for all its tests.
class shared_host : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  // "/api/hosts/<host id>/containers"
  static std::string base() { return "/api/hosts/" + host_id_ + "/containers"; }

  static test_server* server_;
  static test_agent* agent_;
  static std::string host_id_;
};

}  // namespace dockmon::test
