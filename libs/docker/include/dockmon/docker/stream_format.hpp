// Pure parsers for what Docker streams: multiplexed log frames and newline-separated JSON events.
// No I/O, so they are tested from recorded byte streams.
#pragma once

#include "dockmon/common/net.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::docker {

// Docker's stdcopy framing: [stream(1) 0 0 0 size(4, big-endian)] payload, repeated.
struct log_frame {
  enum class source : std::uint8_t { stdin_ = 0, stdout_ = 1, stderr_ = 2 };
  source stream = source::stdout_;
  std::string payload;
};

// Incremental: feed bytes as they arrive; complete frames come out, a partial one waits for more.
class log_demuxer {
 public:
  // Appends complete frames to out. Returns false when the bytes are not a multiplexed stream
  // (unknown stream byte), after which the caller treats the whole body as raw (TTY) text.
  bool feed(std::string_view bytes, std::vector<log_frame>& out);
  std::size_t buffered() const { return pending_.size(); }
  // After feed() returned false: the bytes it could not frame, so they can still be shown as text.
  std::string take_pending();

 private:
  std::string pending_;
};

// Whole-body helper: demultiplexed text (stdout and stderr interleaved in arrival order),
// or the body unchanged when tty is true.
std::string demux_logs(std::string_view body, bool tty);

// Keeps only the last max_bytes of text, cut at a line start where one is within reach.
std::string keep_tail_bytes(std::string text, std::size_t max_bytes);

// Splits the events stream (already de-chunked) into JSON objects, one per line; incomplete lines wait.
class event_splitter {
 public:
  explicit event_splitter(std::size_t max_line_bytes = 1024 * 1024) : max_line_(max_line_bytes) {}
  // Appends parsed objects; returns false on a line that is not a JSON object or is too long.
  bool feed(std::string_view bytes, std::vector<json::object>& out);

 private:
  std::size_t max_line_;
  std::string pending_;
};

}  // namespace dockmon::docker
