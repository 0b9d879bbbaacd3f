// Docker's log framing and the events line stream, parsed incrementally so that neither a split
// frame nor a split line is ever mistaken for a whole one.
#include "dockmon/docker/stream_format.hpp"

#include <algorithm>

namespace dockmon::docker {

namespace {
constexpr std::size_t frame_header_size = 8;
}  // namespace

bool log_demuxer::feed(std::string_view bytes, std::vector<log_frame>& out) {
  pending_.append(bytes);
  std::size_t pos = 0;
  bool ok = true;
  while (pending_.size() - pos >= frame_header_size) {
    const auto* h = reinterpret_cast<const unsigned char*>(pending_.data() + pos);
    // The three padding bytes are always zero in stdcopy; checking them too keeps raw TTY text
    // that happens to start with \x01 from being taken for a frame.
    if (h[0] > 2 || h[1] != 0 || h[2] != 0 || h[3] != 0) {
      ok = false;
      break;
    }
    const std::size_t size = (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) | (std::size_t{h[6]} << 8) | h[7];
    if (pending_.size() - pos - frame_header_size < size) break;
    log_frame frame;
    frame.stream = static_cast<log_frame::source>(h[0]);
    frame.payload.assign(pending_, pos + frame_header_size, size);
    out.push_back(std::move(frame));
    pos += frame_header_size + size;
  }
  pending_.erase(0, pos);
  return ok;
}

std::string log_demuxer::take_pending() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

std::string demux_logs(std::string_view body, bool tty) {
  if (tty) return std::string(body);
  log_demuxer demuxer;
  std::vector<log_frame> frames;
  const bool ok = demuxer.feed(body, frames);
  std::string text;
  for (const auto& f : frames) text += f.payload;
  // Not a multiplexed stream after all (or a damaged one): what could not be framed is still
  // worth showing as it is.
  if (!ok) text += demuxer.take_pending();
  return text;
}

std::string keep_tail_bytes(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  if (max_bytes == 0) return {};
  std::size_t start = text.size() - max_bytes;
  if (text[start - 1] != '\n') {
    // Drop the partial first line when a later line starts inside the window; otherwise a single
    // long line is all there is and its end is better than nothing.
    const auto nl = text.find('\n', start);
    if (nl != std::string::npos && nl + 1 < text.size()) start = nl + 1;
  }
  text.erase(0, start);
  return text;
}

bool event_splitter::feed(std::string_view bytes, std::vector<json::object>& out) {
  bool ok = true;
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (pending_.size() + bytes.size() > max_line_) {
        // Drop what we have; the rest of the line will fail to parse and be skipped as well.
        pending_.clear();
        return false;
      }
      pending_.append(bytes);
      break;
    }
    std::string_view line;
    if (pending_.empty()) {
      line = bytes.substr(0, nl);
    } else {
      pending_.append(bytes.substr(0, nl));
      line = pending_;
    }
    bytes.remove_prefix(nl + 1);
    if (line.size() > max_line_) {
      ok = false;
    } else if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      error_code ec;
      auto value = json::parse(line, ec);
      if (ec || !value.is_object()) {
        ok = false;
      } else {
        out.push_back(std::move(value.as_object()));
      }
    }
    pending_.clear();
  }
  return ok;
}

}  // namespace dockmon::docker
