// The outbox over a real WebSocket on loopback: lane order, coalescing, bounds.
#include "dockmon/common/ws_outbox.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

using namespace dockmon;
using tcp = net::ip::tcp;
using ws_t = websocket::stream<beast::tcp_stream>;

namespace {

struct loopback_pair {
  net::io_context ioc;
  std::shared_ptr<ws_t> client;
  std::shared_ptr<ws_t> server;

  loopback_pair() {
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    client = std::make_shared<ws_t>(ioc);
    beast::get_lowest_layer(*client).connect(acceptor.local_endpoint());
    server = std::make_shared<ws_t>(acceptor.accept());
    // Handshake both ends on this thread: the client's request is buffered by the kernel.
    std::thread accept_side([this] { server->accept(); });
    client->handshake("127.0.0.1", "/");
    accept_side.join();
  }

  // Reads `n` text frames on the server end (or fewer if the connection ends).
  std::vector<std::string> read_frames(std::size_t n) {
    std::vector<std::string> frames;
    beast::flat_buffer buffer;
    beast::get_lowest_layer(*server).expires_after(std::chrono::seconds(5));
    while (frames.size() < n) {
      error_code ec;
      server->read(buffer, ec);
      if (ec) break;
      frames.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    return frames;
  }
};

}  // namespace

TEST(ws_outbox, replies_go_before_events_before_coalesced_stats) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 16, .events = 2});
  outbox->put_stats("a", "stats-a-1");
  EXPECT_TRUE(outbox->push_event("event-1"));
  EXPECT_TRUE(outbox->push("reply-1"));
  outbox->put_stats("a", "stats-a-2");  // replaces stats-a-1 before it was written
  outbox->put_stats("b", "stats-b-1");
  EXPECT_TRUE(outbox->push_event("event-2"));
  EXPECT_FALSE(outbox->push_event("event-3")) << "the event lane holds two";
  EXPECT_TRUE(outbox->push("reply-2"));
  EXPECT_EQ(outbox->take_dropped_events(), 1u);
  EXPECT_EQ(outbox->take_dropped_events(), 0u) << "the count is handed out once";

  net::co_spawn(pair.ioc, ws_outbox<ws_t>::run(outbox), net::detached);
  std::thread writer([&] { pair.ioc.run_for(std::chrono::seconds(5)); });
  auto frames = pair.read_frames(6);
  net::post(pair.ioc, [outbox] { outbox->close(); });  // on the writer's thread: the outbox is not thread-safe
  writer.join();
  EXPECT_EQ(frames, (std::vector<std::string>{"reply-1", "reply-2", "event-1", "event-2", "stats-a-2", "stats-b-1"}));
}

TEST(ws_outbox, a_full_reply_lane_closes_the_connection) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 2, .events = 2});
  EXPECT_TRUE(outbox->push("r1"));
  EXPECT_TRUE(outbox->push("r2"));
  EXPECT_FALSE(outbox->push("r3"));
  EXPECT_TRUE(outbox->closed());
  EXPECT_FALSE(outbox->push("r4"));
  EXPECT_FALSE(outbox->push_event("e"));
  EXPECT_TRUE(pair.read_frames(1).empty()) << "the peer sees the connection end";
}

TEST(ws_outbox, the_reply_lane_is_bounded_in_bytes_too) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 100, .events = 2, .reply_bytes = 3000});
  EXPECT_TRUE(outbox->push(std::string(1000, 'a')));
  EXPECT_TRUE(outbox->push(std::string(1000, 'b')));
  EXPECT_FALSE(outbox->push(std::string(1001, 'c'))) << "3001 bytes queued would pass the bound";
  EXPECT_TRUE(outbox->closed());
}

TEST(ws_outbox, bytes_written_are_given_back_to_the_reply_lane) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 100, .events = 2, .reply_bytes = 2000});
  EXPECT_TRUE(outbox->push(std::string(1500, 'a')));
  net::co_spawn(pair.ioc, ws_outbox<ws_t>::run(outbox), net::detached);
  std::thread writer([&] { pair.ioc.run_for(std::chrono::seconds(5)); });
  ASSERT_EQ(pair.read_frames(1).size(), 1u);
  std::promise<bool> second;
  net::post(pair.ioc, [&] { second.set_value(outbox->push(std::string(1500, 'b'))); });
  EXPECT_TRUE(second.get_future().get()) << "the first reply's bytes were freed when it was written";
  EXPECT_EQ(pair.read_frames(1).size(), 1u);
  net::post(pair.ioc, [outbox] { outbox->close(); });
  writer.join();
}

TEST(ws_outbox, close_with_tells_the_peer_why_after_the_frame_in_flight) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 16, .events = 2});
  EXPECT_TRUE(outbox->push("reply-1"));
  net::co_spawn(pair.ioc, ws_outbox<ws_t>::run(outbox), net::detached);
  std::thread writer([&] { pair.ioc.run_for(std::chrono::seconds(5)); });
  auto frames = pair.read_frames(1);
  net::post(pair.ioc, [outbox] {
    outbox->close_with("replaced by a newer connection of the same agent");
    outbox->push("dropped: the outbox is closing");
  });
  beast::flat_buffer buffer;
  error_code ec;
  pair.server->read(buffer, ec);  // answers the close frame, and ends with `closed`
  writer.join();
  EXPECT_EQ(frames, std::vector<std::string>{"reply-1"});
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(std::string(pair.server->reason().reason.c_str()), "replaced by a newer connection of the same agent");
  EXPECT_EQ(pair.server->reason().code, websocket::close_code::going_away);
}

TEST(ws_outbox, close_with_ends_even_a_write_stuck_on_a_peer_that_does_not_read) {
  loopback_pair pair;
  auto outbox = std::make_shared<ws_outbox<ws_t>>(pair.client, outbox_limits{.replies = 64, .events = 2});
  // Far more than the socket buffers hold: the writer blocks, since the server end never reads.
  for (int i = 0; i < 64; ++i) outbox->push(std::string(1 << 20, 'x'));
  net::co_spawn(pair.ioc, ws_outbox<ws_t>::run(outbox), net::detached);
  net::steady_timer later(pair.ioc);
  later.expires_after(std::chrono::milliseconds(300));
  later.async_wait([outbox](error_code) { outbox->close_with("outbox full: the agent does not read fast enough"); });
  const auto started = std::chrono::steady_clock::now();
  pair.ioc.run_for(std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "everything ended after the limit";
  EXPECT_FALSE(beast::get_lowest_layer(*pair.client).socket().is_open());
}
