// One coroutine per connection on the receiver's own thread; the test reads what came under a mutex.
#include "receiver.hpp"

namespace dockmon::test {

json::value receiver::received::json() const { return json::parse(body); }

receiver::receiver() : acceptor_(ioc_, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  net::co_spawn(ioc_, accept_loop(), net::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

receiver::~receiver() {
  ioc_.stop();
  thread_.join();
}

void receiver::script(std::vector<reply> replies) {
  std::lock_guard lock(mutex_);
  script_.assign(replies.begin(), replies.end());
}

std::vector<receiver::received> receiver::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool receiver::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

net::awaitable<void> receiver::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec) co_return;
    net::co_spawn(ioc_, serve(std::move(socket)), net::detached);
  }
}

net::awaitable<void> receiver::serve(net::ip::tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(socket, buffer, req, use_tuple);
    if (ec) co_return;
    received r{std::string(req.method_string()), std::string(req.target()), req.body(), {}, std::chrono::steady_clock::now()};
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(field.value());
    }
    reply answer;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(r));
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      }
    }
    changed_.notify_all();
    if (answer.stall) {
      stalled_.push_back(std::make_shared<net::ip::tcp::socket>(std::move(socket)));
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
    for (const auto& [name, value] : answer.headers) res.set(name, value);
    res.body() = answer.status < 300 ? R"({"ok":true})" : R"({"error":"scripted"})";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, written] = co_await http::async_write(socket, res, use_tuple);
    if (wec || !res.keep_alive()) co_return;
  }
}

}  // namespace dockmon::test
