// Parsers for Docker's log frames and event lines, fed from recorded byte streams split every way.
#include "dockmon/docker/stream_format.hpp"

#include <gtest/gtest.h>

#include "dockmon/test/log_frames.hpp"

#include <string>
#include <vector>

namespace {

using namespace dockmon::docker;
using std::string_literals::operator""s;

// Docker's log framing, recorded by hand.
const auto frame = dockmon::test::log_frame;

// As dockerd sent it for `echo hello-out; echo hello-err >&2; echo again-out` without a TTY.
const std::string recorded_logs = frame(1, "hello-out\n") + frame(2, "hello-err\n") + frame(1, "again-out\n");

std::string joined(const std::vector<log_frame>& frames) {
  std::string text;
  for (const auto& f : frames) text += f.payload;
  return text;
}

}  // namespace

TEST(log_demuxer, frames_split_at_every_byte_boundary) {
  for (std::size_t cut = 0; cut <= recorded_logs.size(); ++cut) {
    log_demuxer demuxer;
    std::vector<log_frame> frames;
    ASSERT_TRUE(demuxer.feed(std::string_view(recorded_logs).substr(0, cut), frames));
    ASSERT_TRUE(demuxer.feed(std::string_view(recorded_logs).substr(cut), frames));
    EXPECT_EQ(joined(frames), "hello-out\nhello-err\nagain-out\n") << "cut at " << cut;
    EXPECT_EQ(demuxer.buffered(), 0u);
  }
}

TEST(log_demuxer, one_byte_at_a_time_keeps_stream_order) {
  log_demuxer demuxer;
  std::vector<log_frame> frames;
  for (const char c : recorded_logs) ASSERT_TRUE(demuxer.feed(std::string_view(&c, 1), frames));
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].stream, log_frame::source::stdout_);
  EXPECT_EQ(frames[1].stream, log_frame::source::stderr_);
  EXPECT_EQ(frames[1].payload, "hello-err\n");
  EXPECT_EQ(frames[2].stream, log_frame::source::stdout_);
}

TEST(log_demuxer, partial_frame_waits_for_more) {
  log_demuxer demuxer;
  std::vector<log_frame> frames;
  const auto whole = frame(1, "abcdef");
  ASSERT_TRUE(demuxer.feed(std::string_view(whole).substr(0, 10), frames));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(demuxer.buffered(), 10u);
  ASSERT_TRUE(demuxer.feed(std::string_view(whole).substr(10), frames));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "abcdef");
}

TEST(log_demuxer, unknown_stream_byte_is_refused) {
  log_demuxer demuxer;
  std::vector<log_frame> frames;
  const auto bytes = frame(1, "ok\n") + frame(7, "bad\n");
  EXPECT_FALSE(demuxer.feed(bytes, frames));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "ok\n");
  EXPECT_EQ(demuxer.take_pending(), frame(7, "bad\n"));
}

TEST(log_demuxer, plain_text_is_not_a_frame) {
  log_demuxer demuxer;
  std::vector<log_frame> frames;
  EXPECT_FALSE(demuxer.feed("hello world, no frames here\n", frames));
  EXPECT_TRUE(frames.empty());
}

TEST(demux_logs, interleaves_stdout_and_stderr) {
  EXPECT_EQ(demux_logs(recorded_logs, false), "hello-out\nhello-err\nagain-out\n");
}

TEST(demux_logs, tty_body_passes_through) {
  const std::string tty_body = "line one\r\nline two\r\n";
  EXPECT_EQ(demux_logs(tty_body, true), tty_body);
  // Framing bytes in a TTY body are the program's own output, not frames.
  EXPECT_EQ(demux_logs(recorded_logs, true), recorded_logs);
}

TEST(demux_logs, unframed_body_falls_back_to_text) {
  EXPECT_EQ(demux_logs("raw text\n", false), "raw text\n");
}

TEST(keep_tail_bytes, short_text_is_unchanged) {
  EXPECT_EQ(keep_tail_bytes("a\nb\n", 4), "a\nb\n");
  EXPECT_EQ(keep_tail_bytes("a\nb\n", 100), "a\nb\n");
}

TEST(keep_tail_bytes, cuts_at_a_line_start) {
  EXPECT_EQ(keep_tail_bytes("first line\nsecond\nthird\n", 10), "third\n");
  // The window already starts on a line.
  EXPECT_EQ(keep_tail_bytes("first line\nsecond\nthird\n", 13), "second\nthird\n");
}

TEST(keep_tail_bytes, one_long_line_keeps_its_end) {
  EXPECT_EQ(keep_tail_bytes("abcdefghij", 4), "ghij");
  EXPECT_EQ(keep_tail_bytes("abcdefghij\n", 4), "hij\n");
}

TEST(keep_tail_bytes, zero_keeps_nothing) { EXPECT_EQ(keep_tail_bytes("abc\n", 0), ""); }

namespace {
// Two events as dockerd 20.10 writes them on /events, one JSON object per line.
const std::string recorded_events =
    R"({"status":"start","id":"0123abc","from":"busybox","Type":"container","Action":"start",)"
    R"("Actor":{"ID":"0123abc","Attributes":{"image":"busybox","name":"web"}},"scope":"local",)"
    R"("time":1700000000,"timeNano":1700000000123456789})"
    "\n"
    R"({"status":"die","id":"0123abc","Type":"container","Action":"die","Actor":{"ID":"0123abc",)"
    R"("Attributes":{"exitCode":"0","name":"web"}},"scope":"local","time":1700000001,"timeNano":1700000001000000000})"
    "\n";
}  // namespace

TEST(event_splitter, lines_split_at_every_byte_boundary) {
  for (std::size_t cut = 0; cut <= recorded_events.size(); ++cut) {
    event_splitter splitter;
    std::vector<dockmon::json::object> events;
    ASSERT_TRUE(splitter.feed(std::string_view(recorded_events).substr(0, cut), events));
    ASSERT_TRUE(splitter.feed(std::string_view(recorded_events).substr(cut), events));
    ASSERT_EQ(events.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(events[0].at("Action"), "start");
    EXPECT_EQ(events[1].at("Action"), "die");
    EXPECT_EQ(events[0].at("timeNano").to_number<std::int64_t>(), 1700000000123456789);
  }
}

TEST(event_splitter, several_events_in_one_chunk) {
  event_splitter splitter;
  std::vector<dockmon::json::object> events;
  ASSERT_TRUE(splitter.feed(recorded_events + recorded_events, events));
  EXPECT_EQ(events.size(), 4u);
}

TEST(event_splitter, incomplete_line_waits) {
  event_splitter splitter;
  std::vector<dockmon::json::object> events;
  ASSERT_TRUE(splitter.feed(R"({"Action":"start"})", events));
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(splitter.feed("\n", events));
  ASSERT_EQ(events.size(), 1u);
}

TEST(event_splitter, bad_line_is_refused_and_the_next_still_parses) {
  event_splitter splitter;
  std::vector<dockmon::json::object> events;
  EXPECT_FALSE(splitter.feed("not json\n[1,2]\n" + recorded_events, events));
  EXPECT_EQ(events.size(), 2u);
  // The splitter recovers for what follows.
  events.clear();
  EXPECT_TRUE(splitter.feed(recorded_events, events));
  EXPECT_EQ(events.size(), 2u);
}

TEST(event_splitter, blank_lines_are_ignored) {
  event_splitter splitter;
  std::vector<dockmon::json::object> events;
  EXPECT_TRUE(splitter.feed("\n\r\n" + recorded_events, events));
  EXPECT_EQ(events.size(), 2u);
}

TEST(event_splitter, over_long_line_is_refused) {
  event_splitter splitter(64);
  std::vector<dockmon::json::object> events;
  const std::string long_line = R"({"Action":")" + std::string(100, 'x') + R"("})";
  // Arriving whole.
  EXPECT_FALSE(splitter.feed(long_line + "\n", events));
  EXPECT_TRUE(events.empty());
  // Arriving in pieces without a newline: dropped once it passes the cap, and its tail after
  // that does not parse either, so nothing of it comes out.
  EXPECT_TRUE(splitter.feed(long_line.substr(0, 40), events));
  EXPECT_FALSE(splitter.feed(long_line.substr(40, 40), events));
  EXPECT_FALSE(splitter.feed(long_line.substr(80) + "\n", events));
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(splitter.feed(R"({"Action":"ok"})"s + "\n", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("Action"), "ok");
}
