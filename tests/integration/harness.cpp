// Integration harness: processes, clients and waits.
#include "harness.hpp"

#include "dockmon/test/shell.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace dockmon::test {

std::string docker_host() {
  const char* host = std::getenv("DOCKMON_TEST_DOCKER_HOST");
  if (host == nullptr || *host == '\0') {
    ADD_FAILURE() << "DOCKMON_TEST_DOCKER_HOST is not set: run `eval \"$(scripts/test-env start)\"` first (make test does)";
    throw std::runtime_error("no test Docker engine");
  }
  return host;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

unsigned short free_port() {
  net::io_context ioc;
  net::ip::tcp::acceptor a(ioc, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

command_result shell(const std::string& command) {
  auto r = sh(command);
  return command_result{r.status, r.out + "\n"};  // callers read lines; keep the last one whole
}

command_result docker_cli(const std::string& args) { return shell("docker -H " + docker_host() + " " + args); }

// ---- process ----

process::process(std::string path, std::vector<std::string> args, std::map<std::string, std::string> env,
                 std::string log_file)
    : log_file_(std::move(log_file)) {
  env.try_emplace("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::vector<std::string> env_strings;
  for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  args.insert(args.begin(), path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Dies with the test process, even when that one crashes: no servers or agents left behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execve(path.c_str(), argv.data(), envp.data());
    std::perror("execve");
    ::_exit(127);
  }
}

process::~process() {
  if (pid_ > 0 && !status_) stop(2s);
}

bool process::running() {
  if (status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    return false;
  }
  return true;
}

void process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_.value_or(0);
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  if (!wait_until([this] { return !running(); }, grace)) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = status;
  }
  return *status_;
}

std::string process::log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- HTTP ----

json::value http_response::json() const {
  error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return json::value(nullptr);
  return v;
}

namespace {
template <class Stream>
http_response exchange(Stream& stream, unsigned short port, http::verb method, const std::string& target,
                       const std::string& body, const std::map<std::string, std::string>& headers) {
  http_response out;
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::content_type, "application/json");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  req.keep_alive(false);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);  // a log answer may be 10 MiB of text and its JSON escaping
  http::read(stream, buffer, parser);
  auto res = parser.release();
  out.status = res.result_int();
  out.body = res.body();
  for (auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(f.value());
  }
  return out;
}
}  // namespace

http_response http_request(unsigned short port, http::verb method, const std::string& target, const std::string& body,
                           const std::map<std::string, std::string>& headers, std::chrono::milliseconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  return exchange(stream, port, method, target, body, headers);
}

http_response https_request(unsigned short port, http::verb method, const std::string& target, const std::string& body,
                            const std::map<std::string, std::string>& headers, std::chrono::milliseconds timeout) {
  net::io_context ioc;
  // The test's own client does not judge the server's certificate; the agents under test do.
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.handshake(ssl::stream_base::client);
  return exchange(stream, port, method, target, body, headers);
}

// ---- WebSocket ----

ws_client::ws_client(unsigned short port, const std::string& target, const std::map<std::string, std::string>& headers)
    : ws_(ioc_) {
  beast::get_lowest_layer(ws_).expires_after(10s);
  beast::get_lowest_layer(ws_).connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  ws_.handshake("127.0.0.1:" + std::to_string(port), target);
}

ws_client::~ws_client() {
  error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void ws_client::send(const std::string& text) {
  beast::get_lowest_layer(ws_).expires_after(10s);
  ws_.text(true);
  ws_.write(net::buffer(text));
}

void ws_client::send_frame_header(std::uint64_t length) {
  std::array<unsigned char, 14> header{0x81, 0x80 | 127};
  for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<unsigned char>(length >> (8 * (7 - i)));
  header[10] = 0x12;  // the mask key; there is no payload to mask
  header[11] = 0x34;
  header[12] = 0x56;
  header[13] = 0x78;
  beast::get_lowest_layer(ws_).expires_after(10s);
  net::write(beast::get_lowest_layer(ws_).socket(), net::buffer(header));
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    beast::get_lowest_layer(ws_).expires_at(deadline);
    beast::flat_buffer buffer;
    error_code ec;
    ws_.read(buffer, ec);
    if (ec) {
      if (ec == websocket::error::closed) {
        close_code_ = ws_.reason().code;
        close_reason_ = std::string(ws_.reason().reason.c_str());
      }
      return std::nullopt;
    }
    auto text = beast::buffers_to_string(buffer.data());
    if (!keep_health_sync_ && text.starts_with(R"({"type":"health_check_configs_sync")")) continue;
    return text;
  }
}

std::optional<json::value> ws_client::read_json(std::chrono::milliseconds timeout) {
  auto text = read(timeout);
  if (!text) return std::nullopt;
  error_code ec;
  auto v = json::parse(*text, ec);
  if (ec) return std::nullopt;
  return v;
}

json::object register_frame(const std::string& token, const std::string& engine_id) {
  json::object o;
  o["type"] = "register";
  o["token"] = token;
  o["engine_id"] = engine_id;
  o["hostname"] = "raw-" + engine_id;
  o["version"] = "test";
  o["proto_version"] = "1.1";
  o["capabilities"] = json::object{{"container_operations", true}};
  o["os_type"] = "linux";
  o["total_memory"] = 1024 * 1024 * 1024;
  o["num_cpus"] = 2;
  return o;
}

// ---- server and agent ----

namespace {
const char* const admin_password = test_admin_password;

unsigned short port_from_log(process& p, std::chrono::milliseconds timeout) {
  static const std::regex listening(R"(listening on https?://127\.0\.0\.1:(\d+))");
  unsigned short port = 0;
  wait_until(
      [&] {
        std::smatch m;
        auto text = p.log();
        if (std::regex_search(text, m, listening)) port = static_cast<unsigned short>(std::stoi(m[1]));
        return port != 0 || !p.running();
      },
      timeout);
  return port;
}
}  // namespace

namespace {

bool on_postgres() {
  const char* store = std::getenv("DOCKMON_TEST_STORE");
  return store != nullptr && std::string_view(store) == "postgres";
}

std::string postgres_base() {
  const char* base = std::getenv("DOCKMON_TEST_POSTGRES_URL");
  if (base == nullptr || *base == '\0') {
    throw std::runtime_error("DOCKMON_TEST_STORE=postgres needs DOCKMON_TEST_POSTGRES_URL (scripts/test-env env)");
  }
  return base;
}

// The PostgreSQL database of a data folder: made with the folder's first server.
std::string postgres_database_of(const std::string& data_dir) {
  const auto name_file = data_dir + "/test-database-name";
  if (std::ifstream in(name_file); in) {
    std::string name;
    std::getline(in, name);
    return name;
  }
  std::string name = "dockmon_it_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  auto made = shell("psql -q " + postgres_base() + "/postgres -c 'CREATE DATABASE " + name + "'");
  if (made.exit_code != 0) throw std::runtime_error("cannot create the test database: " + made.output);
  std::ofstream(name_file) << name << "\n";
  return name;
}

}  // namespace

test_balancer::test_balancer(const std::vector<unsigned short>& server_ports)
    : dir_(make_temp_dir("dockmon-it-haproxy")), port_(free_port()) {
  std::string config =
      "global\n  maxconn 2000\n"
      "defaults\n  mode http\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n"
      "  timeout tunnel 1h\n  option redispatch\n  retries 2\n"
      "frontend front\n  bind 127.0.0.1:" + std::to_string(port_) + "\n  default_backend replicas\n"
      "backend replicas\n  balance roundrobin\n  option httpchk GET /healthz/ready\n  http-check expect status 200\n";
  for (std::size_t i = 0; i < server_ports.size(); ++i)
    config += "  server r" + std::to_string(i) + " 127.0.0.1:" + std::to_string(server_ports[i]) +
              " check inter 300ms fall 2 rise 1\n";
  std::ofstream(dir_ + "/haproxy.cfg") << config;
  proc_ = std::make_unique<process>("/usr/sbin/haproxy", std::vector<std::string>{"-db", "-f", dir_ + "/haproxy.cfg"},
                                    std::map<std::string, std::string>{}, dir_ + "/haproxy.log");
  const auto answers = [this] {
    try {
      return http_request(port_, http::verb::get, "/healthz", {}, {}, 1s).status == 200;
    } catch (const std::exception&) {
      return false;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!answers()) {
    if (std::chrono::steady_clock::now() > deadline || !proc_->running())
      throw std::runtime_error("haproxy did not start; its log:\n" + proc_->log());
    std::this_thread::sleep_for(100ms);
  }
}

on_postgres_for_this_test::on_postgres_for_this_test() {
  if (const char* was = std::getenv("DOCKMON_TEST_STORE")) previous = was;
  ::setenv("DOCKMON_TEST_STORE", "postgres", 1);
}

on_postgres_for_this_test::~on_postgres_for_this_test() {
  if (previous.empty()) ::unsetenv("DOCKMON_TEST_STORE");
  else ::setenv("DOCKMON_TEST_STORE", previous.c_str(), 1);
}

test_server::test_server(std::map<std::string, std::string> extra_env, std::string data_dir, unsigned short port)
    : data_dir_(std::move(data_dir)), wanted_port_(port) {
  if (data_dir_.empty()) {
    data_dir_ = make_temp_dir("dockmon-it-server");
    own_dir_ = true;
  }
  database_url_ = on_postgres() ? postgres_base() + "/" + postgres_database_of(data_dir_) : "sqlite://" + data_dir_ + "/dockmon.db";
  start(std::move(extra_env));
}

test_server::~test_server() {
  proc_.reset();
  if (!own_dir_) return;
  if (on_postgres()) {
    shell("psql -q " + postgres_base() + "/postgres -c 'DROP DATABASE IF EXISTS " + postgres_database_of(data_dir_) +
          " WITH (FORCE)'");
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(data_dir_);
}

void test_server::start(std::map<std::string, std::string> extra_env) {
  extra_env.try_emplace("DOCKMON_ADMIN_PASSWORD", admin_password);
  extra_env.try_emplace("LOG_LEVEL", "debug");
  std::string listen = "127.0.0.1:" + std::to_string(wanted_port_);
  // A log of its own, also when another server ran on this folder before: its log names another port.
  do ++starts_;
  while (std::filesystem::exists(data_dir_ + "/server-" + std::to_string(starts_) + ".log"));
  proc_ = std::make_unique<process>(DOCKMON_SERVER_BIN, std::vector<std::string>{"--listen", listen, "--data-dir", data_dir_, "--database-url", database_url_},
                                    extra_env, data_dir_ + "/server-" + std::to_string(starts_) + ".log");
  port_ = port_from_log(*proc_, 20s);
  if (port_ == 0) throw std::runtime_error("dockmon-server did not start; its log:\n" + proc_->log());
  wanted_port_ = port_;  // a restart comes back on the same port, where the agents look for it
  const auto log = proc_->log();
  tls_ = log.find("listening on https://") != std::string::npos;
  static const std::regex pin_line(R"(DOCKMON_PINNED_PUBKEY=(\S+))");
  std::smatch m;
  public_key_pin_ = std::regex_search(log, m, pin_line) ? m[1].str() : std::string();
  sign_in();
}

void test_server::restart(std::map<std::string, std::string> extra_env) {
  proc_->stop();
  start(std::move(extra_env));
}

void test_server::kill_hard() { proc_->stop(0ms); }

void test_server::sign_in() {
  json::object creds{{"username", "admin"}, {"password", admin_password}};
  auto res = request(http::verb::post, "/api/auth/login", json::serialize(creds), {});
  if (res.status != 200) throw std::runtime_error("admin sign-in failed: " + res.body);
  auto cookie = res.headers["set-cookie"];
  cookie_ = cookie.substr(0, cookie.find(';'));
}

http_response test_server::request(http::verb method, const std::string& target, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  return tls_ ? https_request(port_, method, target, body, headers) : http_request(port_, method, target, body, headers);
}
http_response test_server::get(const std::string& target) { return request(http::verb::get, target, {}, {{"Cookie", cookie_}}); }
http_response test_server::post(const std::string& target, const std::string& body) {
  return request(http::verb::post, target, body, {{"Cookie", cookie_}});
}
http_response test_server::put(const std::string& target, const std::string& body) {
  return request(http::verb::put, target, body, {{"Cookie", cookie_}});
}

http_response test_server::del(const std::string& target) { return request(http::verb::delete_, target, {}, {{"Cookie", cookie_}}); }

std::string test_server::registration_token() {
  auto res = post("/api/agent/generate-token");
  if (res.status != 201) throw std::runtime_error("generate-token failed: " + res.body);
  return std::string(res.json().at("token").as_string());
}

std::string test_server::api_key(const std::string& role) {
  json::object body{{"name", "test-" + role}, {"role", role}};
  auto res = post("/api/api-keys", json::serialize(body));
  if (res.status != 201) throw std::runtime_error("api key creation failed: " + res.body);
  return std::string(res.json().at("key").as_string());
}

json::array test_server::hosts() {
  auto res = get("/api/hosts");
  if (res.status != 200) return {};
  return res.json().as_array();
}

std::optional<json::object> test_server::host(const std::string& host_id) {
  auto res = get("/api/hosts/" + host_id);
  if (res.status != 200) return std::nullopt;
  return res.json().as_object();
}

std::optional<json::object> test_server::wait_for_host(const std::string& host_id, const std::string& status,
                                                       std::chrono::milliseconds timeout) {
  std::optional<json::object> found;
  wait_until(
      [&] {
        found = host(host_id);
        return found && found->at("status").as_string() == status;
      },
      timeout);
  if (found && found->at("status").as_string() != status) return std::nullopt;
  return found;
}

std::optional<json::object> test_server::wait_for_engine(const std::string& engine, std::chrono::milliseconds timeout) {
  std::optional<json::object> found;
  wait_until(
      [&] {
        for (auto& h : hosts()) {
          auto& o = h.as_object();
          if (o.at("agent").is_object() && o.at("agent").at("engine_id").as_string() == engine &&
              o.at("status").as_string() == "online") {
            found = o;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::string test_server::sql(const std::string& statement) {
  auto r = on_postgres() ? shell("psql -X -q -At -F '|' " + database_url_ + " -c \"" + statement + "\"")
                         : shell("sqlite3 " + data_dir_ + "/dockmon.db \"" + statement + "\"");
  if (r.exit_code != 0) throw std::runtime_error("SQL on the server's database failed: " + r.output);
  return r.output;
}

test_agent::test_agent(unsigned short server_port, std::string token, std::string data_dir,
                       std::map<std::string, std::string> extra_env, std::string binary)
    : data_dir_(std::move(data_dir)), binary_(binary.empty() ? std::string(DOCKMON_AGENT_BIN) : std::move(binary)) {
  if (data_dir_.empty()) {
    data_dir_ = make_temp_dir("dockmon-it-agent");
    own_dir_ = true;
  }
  extra_env.try_emplace("DOCKMON_URL", "http://127.0.0.1:" + std::to_string(server_port));
  if (!token.empty()) extra_env.try_emplace("REGISTRATION_TOKEN", token);
  extra_env.try_emplace("DOCKER_HOST", docker_host());
  extra_env.try_emplace("DATA_PATH", data_dir_);
  extra_env.try_emplace("RECONNECT_INITIAL", "200ms");
  extra_env.try_emplace("RECONNECT_MAX", "2s");
  extra_env.try_emplace("LOG_LEVEL", "debug");
  env_ = std::move(extra_env);
  proc_ = std::make_unique<process>(binary_, std::vector<std::string>{}, env_, data_dir_ + "/agent.log");
}

void test_agent::restart() {
  proc_->stop(2s);
  proc_ = std::make_unique<process>(binary_, std::vector<std::string>{}, env_, data_dir_ + "/agent.log");
}

test_agent::~test_agent() {
  proc_->stop(2s);
  if (own_dir_ && !::testing::Test::HasFailure()) std::filesystem::remove_all(data_dir_);
}

server_and_agent::server_and_agent() : agent(server.port(), server.registration_token()) {
  auto host = server.wait_for_engine(engine_id());
  if (!host) throw std::runtime_error("the agent did not register: " + agent.log());
  host_id = std::string(host->at("id").as_string());
  host_name = std::string(host->at("name").as_string());
}

std::vector<json::object> alerts_on(test_server& server, const std::string& target) {
  std::vector<json::object> out;
  auto res = server.get("/api/alerts?limit=1000");
  if (res.status != 200) return out;
  auto list = res.json();
  for (auto& a : list.as_array())
    if (a.at("target_name").as_string() == target) out.push_back(a.as_object());
  return out;
}

std::optional<json::object> wait_for_alert(test_server& server, const std::string& target, const std::string& state,
                                           std::chrono::milliseconds timeout) {
  std::optional<json::object> found;
  wait_until([&] {
    auto list = alerts_on(server, target);
    if (list.empty() || list.front().at("state").as_string() != state) return false;
    found = list.front();
    return true;
  }, timeout);
  return found;
}

bool event_seen(test_server& server, const std::string& container_id, const std::string& action) {
  auto res = server.get("/api/events?type=container&container_id=" + container_id);
  return res.status == 200 && res.body.find("\"action\":\"" + action + "\"") != std::string::npos;
}

void restart_test_engine() {
  std::string env_script = std::string(DOCKMON_SOURCE_DIR) + "/scripts/test-env";
  auto stopped = shell(env_script + " stop-engine");
  if (stopped.exit_code != 0) throw std::runtime_error("stopping the test engine failed: " + stopped.output);
  auto started = shell(env_script + " start");
  if (started.exit_code != 0) throw std::runtime_error("starting the test engine failed: " + started.output);
}

std::string engine_id() {
  auto r = docker_cli("info -f '{{.ID}}'");
  auto id = r.output;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

scoped_container::scoped_container(const std::string& n, const std::string& command, const std::string& extra_args)
    : name(n) {
  docker_cli("rm -f " + name);
  // No network unless the test names one (the host's, for a service the agent probes on loopback).
  const std::string network = extra_args.find("--network") == std::string::npos ? "--network none " : "";
  auto r = docker_cli("run -d " + network + "--name " + name + " " + extra_args + " dockmon-test/busybox:latest sh -c '" +
                      command + "'");
  if (r.exit_code != 0) throw std::runtime_error("docker run failed: " + r.output);
  id = r.output.substr(0, 64);
}

scoped_container::~scoped_container() { docker_cli("rm -f " + name + " " + id); }

std::string docker_inspect(const std::string& name, const std::string& format) {
  auto r = docker_cli("inspect -f '" + format + "' " + name);
  if (r.exit_code != 0) return "<missing>";
  auto out = r.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// ---- shared_host ----

test_server* shared_host::server_ = nullptr;
test_agent* shared_host::agent_ = nullptr;
std::string shared_host::host_id_;

void shared_host::SetUpTestSuite() {
  server_ = new test_server();
  agent_ = new test_agent(server_->port(), server_->registration_token());
  auto host = server_->wait_for_engine(engine_id());
  if (!host) FAIL() << "agent did not come online: " << agent_->log();
  host_id_ = std::string(host->at("id").as_string());
}

void shared_host::TearDownTestSuite() {
  delete agent_;
  delete server_;
  agent_ = nullptr;
  server_ = nullptr;
}

bool agent_runs(test_server& server, const std::string& host_id, const std::string& version,
                std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        auto h = server.host(host_id);
        if (!h || h->at("status") != "online") return false;
        const auto& v = h->at("agent").at("version");
        return v.is_string() && v.get_string() == version;
      },
      timeout);
}

std::optional<json::object> agent_update_outcome(test_server& server, const std::string& host_id, const std::string& since,
                                                 const std::string& action, std::chrono::milliseconds timeout) {
  std::optional<json::object> found;
  wait_until(
      [&] {
        auto res = server.get("/api/events?type=agent_update&host_id=" + host_id + "&since=" + since);
        if (res.status != 200) return false;
        const auto events = res.json();
        for (const auto& e : events.as_array()) {
          const auto& a = e.at("action");
          if (!a.is_string() || a.get_string() != action) continue;
          found = e.at("attributes").as_object();
          return true;
        }
        return false;
      },
      timeout);
  return found;
}

}  // namespace dockmon::test
