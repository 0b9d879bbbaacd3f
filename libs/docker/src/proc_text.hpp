// Parsing of the kernel's text files (/proc, cgroup stat files), shared by the container and host samplers.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace dockmon::docker::detail {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Calls f(line) for each line of text.
template <class F>
inline void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Splits on runs of spaces and tabs.
inline std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// "key value" files (memory.stat, cpu.stat): the value of key, if present.
inline std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  std::optional<std::uint64_t> found;
  for_each_line(text, [&](std::string_view line) {
    if (found || line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ') return;
    found = parse_u64(line.substr(key.size() + 1));
  });
  return found;
}

// A field of /proc/meminfo ("MemTotal:", "MemAvailable:") in bytes; 0 when absent.
inline std::uint64_t meminfo_bytes(std::string_view meminfo, std::string_view key) {
  std::uint64_t value = 0;
  for_each_line(meminfo, [&](std::string_view line) {
    if (line.substr(0, key.size()) != key) return;
    const auto f = fields(line.substr(key.size()));
    if (!f.empty()) value = parse_u64(f[0]).value_or(0) * (f.size() > 1 && f[1] == "kB" ? 1024 : 1);
  });
  return value;
}

inline std::uint64_t parse_mem_total(std::string_view meminfo) { return meminfo_bytes(meminfo, "MemTotal:"); }

// /proc/<pid>/net/dev: received bytes (first column) and sent bytes (ninth) of every interface but lo.
inline std::pair<std::uint64_t, std::uint64_t> parse_net_dev(std::string_view text) {
  std::uint64_t rx = 0, tx = 0;
  for_each_line(text, [&](std::string_view line) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return;  // the two header lines have '|' and no ':'
    if (trim(line.substr(0, colon)) == "lo") return;
    const auto f = fields(line.substr(colon + 1));
    if (f.size() < 9) return;
    rx += parse_u64(f[0]).value_or(0);
    tx += parse_u64(f[8]).value_or(0);
  });
  return {rx, tx};
}

}  // namespace dockmon::docker::detail
