// ISO 8601 formatting and parsing without locale or time-zone state.
#include "dockmon/common/time.hpp"

#include <charconv>
#include <cstdio>

namespace dockmon {

std::string to_iso8601(sys_clock::time_point t, bool millis) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<milliseconds>(t - day)};
  char buf[40];
  if (millis) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02lld.%03lldZ", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()), static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()), static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()));
  }
  return buf;
}

std::string now_iso8601() { return to_iso8601(sys_clock::now()); }

namespace {
bool read_int(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc{} || end != s.data() + n) return false;
  s.remove_prefix(n);
  return true;
}
bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}
}  // namespace

std::optional<sys_clock::time_point> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_int(s, 4, y) || !expect(s, '-') || !read_int(s, 2, mo) || !expect(s, '-') || !read_int(s, 2, d)) return std::nullopt;
  if (s.empty() || (s.front() != 'T' && s.front() != ' ')) return std::nullopt;
  s.remove_prefix(1);
  if (!read_int(s, 2, h) || !expect(s, ':') || !read_int(s, 2, mi) || !expect(s, ':') || !read_int(s, 2, sec)) return std::nullopt;
  nanoseconds frac{0};
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    std::int64_t scale = 100'000'000, ns = 0;
    std::size_t digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      if (scale > 0) { ns += (s.front() - '0') * scale; scale /= 10; }
      s.remove_prefix(1);
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    frac = nanoseconds(ns);
  }
  minutes offset{0};
  if (!s.empty() && s.front() == 'Z') {
    s.remove_prefix(1);
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh = 0, om = 0;
    if (!read_int(s, 2, oh) || !expect(s, ':') || !read_int(s, 2, om)) return std::nullopt;
    offset = minutes(sign * (oh * 60 + om));
  } else {
    return std::nullopt;
  }
  if (!s.empty()) return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + frac - offset;
  return time_point_cast<sys_clock::duration>(tp);
}

std::int64_t unix_seconds(sys_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace dockmon
