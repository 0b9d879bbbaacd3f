// A loopback HTTP server that stands in for a chat service or webhook in the notification tests: it
// records every request whole and answers each with the next scripted reply (200 when none is left).
#pragma once

#include "dockmon/common/net.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dockmon::test {

class receiver {
 public:
  struct reply {
    unsigned status = 200;
    std::map<std::string, std::string> headers;
    bool stall = false;  // never answer: read the request, keep the connection open until the receiver ends
  };
  struct received {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::chrono::steady_clock::time_point at;
    json::value json() const;  // the body as JSON (throws when it is not)
  };

  receiver();
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "/hook") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void script(std::vector<reply> replies);
  std::vector<received> requests();
  // Waits until at least `count` requests came; false on timeout.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout);

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(net::ip::tcp::socket socket);

  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<reply> script_;
  std::vector<received> requests_;
  std::vector<std::shared_ptr<net::ip::tcp::socket>> stalled_;
  std::thread thread_;
};

}  // namespace dockmon::test
