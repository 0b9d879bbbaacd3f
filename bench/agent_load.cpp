// Stats ingest load: N simulated agents register with a dockmon-server and stream container_stats_batch
// frames for T seconds; the server's own counter (/metrics), CPU time and RSS (/proc/<pid>) say what it took.
// The agents answer list_containers (a fleet for the web UI to show) and may send host stats too.
// One thread, one io_context: the generator's own CPU is printed too, since it shares the machine.
#include "dockmon/common/net.hpp"
#include "dockmon/protocol/envelope.hpp"
#include "dockmon/protocol/registration.hpp"

#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dockmon;
using namespace std::chrono_literals;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string api_key;
  int agents = 50;
  int containers = 40;
  int seconds = 20;
  int interval_ms = 0;
  int server_pid = 0;
  int stopped_every = 0;    // every Nth container is exited (0: none); it sends no stats
  int unhealthy_every = 0;  // every Nth running container reports "(unhealthy)" (0: none)
  bool host_stats = false;  // a host stats frame with every batch
};

struct agent {
  int index = 0;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  std::string batch;  // the pre-serialised container_stats_batch frame
  std::string list;   // the pre-serialised containers, Docker's summary form, for list_containers
  std::deque<std::string> outbox;  // Beast allows one write at a time: frames wait here for theirs
  bool writing = false;
  std::uint64_t batches_sent = 0;
  std::uint64_t commands_answered = 0;
  bool reader_done = false;
  bool sender_done = false;
  bool closing = false;
  std::string error;  // why the connection ended early, if it did
};

struct run_state {
  options opt;
  std::vector<std::unique_ptr<agent>> agents;
  bool stop = false;
};

// ---- HTTP ----

struct http_reply {
  unsigned status = 0;
  std::string body;
};

net::awaitable<http_reply> http_call(const options& opt, http::verb method, std::string target, std::string body) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(opt.host, opt.port, net::use_awaitable);
  beast::tcp_stream stream(ex);
  stream.expires_after(30s);
  co_await stream.async_connect(endpoints, net::use_awaitable);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, opt.host + ":" + opt.port);
  req.set(http::field::authorization, "Bearer " + opt.api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  co_await http::async_write(stream, req, net::use_awaitable);
  beast::flat_buffer buffer;
  // /metrics carries nine lines per container: 8000 containers outgrow Beast's default 8 MiB body limit.
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  co_await http::async_read(stream, buffer, parser, net::use_awaitable);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  auto res = parser.release();
  co_return http_reply{res.result_int(), std::move(res.body())};
}

struct metrics_scrape {
  std::uint64_t samples = 0;  // dockmon_stats_samples_ingested_total
  std::size_t bytes = 0;      // size of the whole answer
  double seconds = 0;         // request to last byte
};

net::awaitable<metrics_scrape> scrape_metrics(const options& opt) {
  auto start = std::chrono::steady_clock::now();
  auto reply = co_await http_call(opt, http::verb::get, "/metrics", {});
  metrics_scrape m;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.bytes = reply.body.size();
  if (reply.status != 200) throw std::runtime_error("GET /metrics: HTTP " + std::to_string(reply.status) + " " + reply.body);
  const std::string_view name = "\ndockmon_stats_samples_ingested_total ";
  auto at = reply.body.find(name);
  if (at == std::string::npos) throw std::runtime_error("/metrics has no dockmon_stats_samples_ingested_total");
  m.samples = std::stoull(reply.body.substr(at + name.size(), 32));
  co_return m;
}

// ---- /proc and rusage ----

double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  // After "pid (comm)": field 3 is state; utime and stime are fields 14 and 15.
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// ---- frames ----

std::string container_id(int agent_index, int c) {
  char id[65];
  std::snprintf(id, sizeof id, "%08x%08x%048x", static_cast<unsigned>(getpid()), static_cast<unsigned>(agent_index),
                static_cast<unsigned>(c));
  return id;
}

bool is_stopped(const options& opt, int c) { return opt.stopped_every > 0 && c % opt.stopped_every == opt.stopped_every - 1; }

std::string stats_batch(const options& opt, int agent_index, int containers) {
  json::array list;
  for (int c = 0; c < containers; ++c) {
    if (is_stopped(opt, c)) continue;
    auto id = container_id(agent_index, c);
    json::object s;
    s["container_id"] = id;
    s["container_name"] = "load-" + std::to_string(agent_index) + "-" + std::to_string(c);
    s["cpu_percent"] = 1.5 + c % 7;
    s["memory_usage"] = 50'000'000 + c * 1'000;
    s["memory_limit"] = 2'000'000'000;
    s["memory_percent"] = 2.5;
    s["network_rx"] = 123'456 + c;
    s["network_tx"] = 654'321 + c;
    s["disk_read"] = 1'000'000;
    s["disk_write"] = 2'000'000;
    s["pids"] = 3;
    list.push_back(std::move(s));
  }
  json::object payload;
  payload["timestamp"] = static_cast<std::int64_t>(std::time(nullptr));
  payload["containers"] = std::move(list);
  return json::serialize(protocol::event_frame("container_stats_batch", std::move(payload)));
}

// What `docker ps -a` would list on this simulated host, as the agent passes Docker's answer on.
json::array container_list(const options& opt, int agent_index, int containers) {
  json::array list;
  const auto created = static_cast<std::int64_t>(std::time(nullptr)) - 7200;
  for (int c = 0; c < containers; ++c) {
    const bool stopped = is_stopped(opt, c);
    const bool unhealthy = !stopped && opt.unhealthy_every > 0 && c % opt.unhealthy_every == 0;
    json::object o;
    o["Id"] = container_id(agent_index, c);
    o["Names"] = json::array{json::value("/load-" + std::to_string(agent_index) + "-" + std::to_string(c))};
    o["Image"] = "load/app:" + std::to_string(c % 5);
    o["State"] = stopped ? "exited" : "running";
    o["Status"] = stopped ? "Exited (0) 1 hour ago" : unhealthy ? "Up 2 hours (unhealthy)" : "Up 2 hours";
    o["Created"] = created;
    o["Labels"] = json::object{};
    list.push_back(std::move(o));
  }
  return list;
}

// Sends a frame now, or after the one being written: one coroutine writes while frames are waiting.
net::awaitable<void> send_frame(agent& a, std::string frame) {
  a.outbox.push_back(std::move(frame));
  if (a.writing) co_return;
  a.writing = true;
  while (!a.outbox.empty() && a.error.empty()) {
    std::string next = std::move(a.outbox.front());
    a.outbox.pop_front();
    auto [ec, n] = co_await a.ws->async_write(net::buffer(next), use_tuple);
    if (ec) {
      if (!a.closing) a.error = "write: " + ec.message();
      break;
    }
  }
  a.writing = false;
}

// ---- agents ----

// Token, WebSocket, register, auth_success. Throws on any failure: a bench that cannot connect has no result.
net::awaitable<void> connect_agent(const options& opt, agent& a, const std::string& run_id) {
  auto ex = co_await net::this_coro::executor;
  auto reply = co_await http_call(opt, http::verb::post, "/api/agent/generate-token", "{}");
  if (reply.status != 200 && reply.status != 201)
    throw std::runtime_error("generate-token: HTTP " + std::to_string(reply.status) + " " + reply.body);
  auto token_value = json::parse(reply.body);
  std::string token(token_value.at("token").as_string());

  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(opt.host, opt.port, net::use_awaitable);
  a.ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ex);
  auto& ws = *a.ws;
  beast::get_lowest_layer(ws).expires_after(30s);
  co_await beast::get_lowest_layer(ws).async_connect(endpoints, net::use_awaitable);
  beast::get_lowest_layer(ws).expires_never();
  // As the real agent: a command reply is small and must not wait for Nagle (40 ms a reply otherwise).
  error_code ignored;
  beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ignored);
  websocket::stream_base::timeout t{};
  t.handshake_timeout = 30s;
  t.idle_timeout = 40s;
  t.keep_alive_pings = true;
  ws.set_option(t);
  ws.text(true);
  co_await ws.async_handshake(opt.host + ":" + opt.port, "/api/agent/ws", net::use_awaitable);

  protocol::register_frame reg;
  reg.token = token;
  reg.engine_id = "LOAD:" + run_id + ":" + std::to_string(a.index);
  reg.hostname = "load-" + std::to_string(a.index);
  reg.version = "load";
  reg.proto_version = std::string(protocol::proto_version);
  reg.capabilities["stats_collection"] = true;
  reg.capabilities["stats_batch"] = true;
  reg.os_type = "linux";
  reg.os_version = "simulated";
  reg.docker_version = "0.0-load";
  reg.total_memory = std::int64_t{8} << 30;
  reg.num_cpus = 4;
  auto text = json::serialize(protocol::to_json(reg));
  co_await ws.async_write(net::buffer(text), net::use_awaitable);

  beast::flat_buffer buffer;
  co_await ws.async_read(buffer, net::use_awaitable);
  auto parsed = protocol::parse_auth_reply(json::parse(beast::buffers_to_string(buffer.data())));
  if (!parsed) throw std::runtime_error("agent " + std::to_string(a.index) + ": bad auth reply: " + parsed.error().message);
  if (!parsed->ok) throw std::runtime_error("agent " + std::to_string(a.index) + ": auth_error: " + parsed->error);
  a.batch = stats_batch(opt, a.index, opt.containers);
  a.list = json::serialize(container_list(opt, a.index, opt.containers));
}

// Keeps one read pending (so Beast answers the server's pings), answers list_containers, ignores the rest.
net::awaitable<void> read_and_answer(agent& a) {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await a.ws->async_read(buffer, use_tuple);
    if (ec) {
      if (!a.closing && a.error.empty()) a.error = "read: " + ec.message();
      break;
    }
    error_code parse_ec;
    auto frame = json::parse(beast::buffers_to_string(buffer.data()), parse_ec);
    buffer.consume(n);
    if (parse_ec) continue;
    auto message = protocol::parse_server_message(frame);
    if (!message || message->type != protocol::server_message::kind::command || message->cmd.name != "list_containers") continue;
    json::object payload;
    payload["containers"] = json::parse(a.list);
    auto reply = json::serialize(protocol::response_frame(message->cmd.id, std::move(payload)));
    ++a.commands_answered;
    net::co_spawn(co_await net::this_coro::executor, send_frame(a, std::move(reply)), net::detached);
  }
  a.reader_done = true;
}

net::awaitable<void> send_stats(run_state& run, agent& a, steady::time_point deadline) {
  net::steady_timer tick(co_await net::this_coro::executor);
  auto next = steady::now();
  const auto interval = std::chrono::milliseconds(run.opt.interval_ms);
  std::string host_stats;
  if (run.opt.host_stats)
    host_stats = json::serialize(protocol::host_stats_frame(5.0 + a.index % 20, 30.0 + a.index % 40, 1000.0 * (a.index + 1)));
  while (!run.stop && steady::now() < deadline && !a.reader_done && a.error.empty()) {
    if (!host_stats.empty()) co_await send_frame(a, host_stats);
    co_await send_frame(a, a.batch);
    if (!a.error.empty()) break;
    ++a.batches_sent;
    if (interval.count() > 0) {
      next += interval;
      if (next > deadline) break;
      tick.expires_at(next);
      co_await tick.async_wait(use_tuple);
    }
  }
  a.sender_done = true;
}

net::awaitable<void> close_agent(agent& a) {
  if (a.reader_done) co_return;
  a.closing = true;
  websocket::close_reason reason(websocket::close_code::normal);
  co_await a.ws->async_close(reason, use_tuple);
}

net::awaitable<void> sleep_for(steady::duration d) {
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(use_tuple);
}

double seconds_between(steady::time_point a, steady::time_point b) { return std::chrono::duration<double>(b - a).count(); }

net::awaitable<void> run_bench(run_state& run) {
  auto ex = co_await net::this_coro::executor;
  const auto& opt = run.opt;
  const std::string run_id = std::to_string(getpid());

  auto setup_start = steady::now();
  for (int i = 0; i < opt.agents; ++i) {
    auto a = std::make_unique<agent>();
    a->index = i;
    co_await connect_agent(opt, *a, run_id);
    net::co_spawn(ex, read_and_answer(*a), net::detached);
    run.agents.push_back(std::move(a));
  }
  std::fprintf(stderr, "%d agents registered in %.1f s; sending for %d s\n", opt.agents,
               seconds_between(setup_start, steady::now()), opt.seconds);
  co_await sleep_for(500ms);  // let registration work (store writes) settle before the baseline

  auto before_samples = (co_await scrape_metrics(opt)).samples;
  double before_cpu = opt.server_pid > 0 ? process_cpu_seconds(opt.server_pid) : 0;
  long before_rss = opt.server_pid > 0 ? rss_kib(opt.server_pid) : 0;
  double before_own_cpu = own_cpu_seconds();

  auto start = steady::now();
  auto deadline = start + std::chrono::seconds(opt.seconds);
  for (auto& a : run.agents) net::co_spawn(ex, send_stats(run, *a, deadline), net::detached);
  co_await sleep_for(std::chrono::seconds(opt.seconds));
  run.stop = true;
  for (;;) {
    bool all_done = true;
    for (auto& a : run.agents) all_done = all_done && a->sender_done;
    if (all_done) break;
    co_await sleep_for(10ms);
  }
  auto sending_ended = steady::now();

  // What sits in socket buffers still reaches the server: wait until its counter stops moving.
  auto last = co_await scrape_metrics(opt);
  auto last_change = steady::now();
  for (;;) {
    co_await sleep_for(200ms);
    auto now = co_await scrape_metrics(opt);
    if (now.samples == last.samples) {
      last = now;
      break;
    }
    last = now;
    last_change = steady::now();
  }
  const auto last_samples = last.samples;
  double after_cpu = opt.server_pid > 0 ? process_cpu_seconds(opt.server_pid) : 0;
  long after_rss = opt.server_pid > 0 ? rss_kib(opt.server_pid) : 0;
  double own_cpu = own_cpu_seconds() - before_own_cpu;

  std::uint64_t batches = 0;
  std::uint64_t answered = 0;
  int failed = 0;
  std::string first_error;
  for (auto& a : run.agents) {
    batches += a->batches_sent;
    answered += a->commands_answered;
    if (!a->error.empty()) {
      ++failed;
      if (first_error.empty()) first_error = "agent " + std::to_string(a->index) + " " + a->error;
    }
  }
  for (auto& a : run.agents) co_await close_agent(*a);

  const double window = seconds_between(start, last_change);
  const auto ingested = last_samples - before_samples;
  const double server_cpu = after_cpu - before_cpu;
  std::printf("agents: %d\n", opt.agents);
  std::printf("containers/agent: %d\n", opt.containers);
  std::printf("interval: %s\n", opt.interval_ms > 0 ? (std::to_string(opt.interval_ms) + " ms").c_str() : "none (as fast as the socket takes)");
  std::printf("seconds sending: %.1f (server done %.1f s after the start)\n", seconds_between(start, sending_ended), window);
  const int streaming = opt.stopped_every > 0 ? opt.containers - opt.containers / opt.stopped_every : opt.containers;
  std::printf("samples sent: %llu\n", static_cast<unsigned long long>(batches * static_cast<std::uint64_t>(streaming)));
  std::printf("samples ingested by the server: %llu\n", static_cast<unsigned long long>(ingested));
  std::printf("samples/s: %.0f\n", static_cast<double>(ingested) / window);
  if (opt.server_pid > 0) {
    std::printf("server CPU seconds: %.2f (%.0f%% of one core)\n", server_cpu, 100 * server_cpu / window);
    std::printf("samples per server CPU-second: %.0f\n", server_cpu > 0 ? static_cast<double>(ingested) / server_cpu : 0.0);
    std::printf("server RSS before/after: %ld / %ld KiB\n", before_rss, after_rss);
  }
  std::printf("generator CPU seconds: %.2f (%.0f%% of one core)\n", own_cpu, 100 * own_cpu / window);
  std::printf("GET /metrics at the end: %zu bytes in %.3f s\n", last.bytes, last.seconds);
  std::printf("list_containers answered: %llu\n", static_cast<unsigned long long>(answered));
  std::printf("agents that lost their connection: %d%s%s\n", failed, first_error.empty() ? "" : ", first: ",
              first_error.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  net::io_context ioc(1);  // before run: the agents' sockets must go before their io_context does
  run_state run;
  std::string server = "127.0.0.1:8080";
  CLI::App app{"agent_load: simulated dockmon-agents streaming container stats, to measure the server's ingest"};
  app.add_option("--server", server, "host:port of the dockmon-server");
  app.add_option("--api-key", run.opt.api_key, "an admin API key (sent as Authorization: Bearer)")->required();
  app.add_option("--agents", run.opt.agents, "simulated agents")->check(CLI::Range(1, 100000));
  app.add_option("--containers", run.opt.containers, "containers per agent (one batch carries them all)")->check(CLI::Range(1, 5000));
  app.add_option("--seconds", run.opt.seconds, "how long to send")->check(CLI::Range(1, 3600));
  app.add_option("--interval-ms", run.opt.interval_ms, "one batch per agent every I ms; 0: as fast as the socket takes them")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--server-pid", run.opt.server_pid, "the server's pid, for its CPU time and RSS from /proc");
  app.add_option("--stopped-every", run.opt.stopped_every, "every Nth container is exited and sends no stats (0: none)")
      ->check(CLI::Range(0, 5000));
  app.add_option("--unhealthy-every", run.opt.unhealthy_every, "every Nth running container is unhealthy (0: none)")
      ->check(CLI::Range(0, 5000));
  app.add_flag("--host-stats", run.opt.host_stats, "send host CPU, memory and network with every batch");
  CLI11_PARSE(app, argc, argv);
  auto colon = server.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "agent_load: --server must be host:port\n");
    return 2;
  }
  run.opt.host = server.substr(0, colon);
  run.opt.port = server.substr(colon + 1);

  std::exception_ptr failure;
  // On failure stop at once: the agents' pending reads would otherwise keep the loop running for ever.
  net::co_spawn(ioc, run_bench(run), [&failure, &ioc](std::exception_ptr e) {
    failure = e;
    if (e) ioc.stop();
  });
  ioc.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "agent_load: %s\n", e.what());
      return 1;
    }
  }
  return 0;
}
