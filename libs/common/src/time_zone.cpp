// TZif (RFC 8536): a version 1 block of 32-bit times, then, from version 2 on, the same data with 64-bit
// times, which is the part read here. The POSIX rule in the footer is not evaluated: Debian's files carry
// every transition up to 2037.
#include "dockmon/common/time_zone.hpp"

#include "dockmon/common/files.hpp"

#include <algorithm>

namespace dockmon {

namespace {

struct reader {
  std::string_view bytes;
  bool ok = true;

  std::string_view take(std::size_t n) {
    if (!ok || bytes.size() < n) {
      ok = false;
      return {};
    }
    auto out = bytes.substr(0, n);
    bytes.remove_prefix(n);
    return out;
  }
  std::int64_t be(std::size_t n) {
    auto b = take(n);
    if (!ok) return 0;
    std::uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    // sign-extend from n bytes
    if (n < 8 && (v >> (n * 8 - 1)) != 0) v |= ~std::uint64_t{0} << (n * 8);
    return static_cast<std::int64_t>(v);
  }
};

struct counts {
  std::int64_t isut, isstd, leap, time, type, chars;
};

std::optional<counts> header(reader& r, char& version) {
  if (r.take(4) != "TZif") return std::nullopt;
  auto v = r.take(1);
  version = v.empty() ? '\0' : v[0];
  r.take(15);
  counts c{r.be(4), r.be(4), r.be(4), r.be(4), r.be(4), r.be(4)};
  if (!r.ok || c.type < 1 || c.type > 256 || c.time < 0 || c.time > 100000 || c.chars < 0 || c.leap < 0 || c.isut < 0 ||
      c.isstd < 0)
    return std::nullopt;
  return c;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' || c == '+';
  });
}

}  // namespace

std::optional<time_zone> time_zone::load(std::string_view name, const std::string& database) {
  if (!valid_name(name)) return std::nullopt;
  try {
    auto bytes = read_small_file(database + "/" + std::string(name), 1 << 20);
    if (!bytes) return std::nullopt;
    return parse(name, *bytes);
  } catch (const std::exception&) {
    return std::nullopt;  // a folder (Europe), or unreadable
  }
}

std::optional<time_zone> time_zone::parse(std::string_view name, std::string_view tzif) {
  reader r{tzif};
  char version = 0;
  auto c = header(r, version);
  if (!c) return std::nullopt;
  std::size_t time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block to the 64-bit one.
    r.take(static_cast<std::size_t>(c->time * 5 + c->type * 6 + c->chars + c->leap * 8 + c->isstd + c->isut));
    c = header(r, version);
    if (!c) return std::nullopt;
    time_size = 8;
  }
  time_zone z;
  z.name_ = std::string(name);
  std::vector<std::uint8_t> type_of(static_cast<std::size_t>(c->time));
  z.transitions_.resize(static_cast<std::size_t>(c->time));
  for (auto& t : z.transitions_) t = r.be(time_size);
  for (auto& i : type_of) i = static_cast<std::uint8_t>(r.be(1));
  std::vector<std::int32_t> type_offsets(static_cast<std::size_t>(c->type));
  for (auto& o : type_offsets) {
    o = static_cast<std::int32_t>(r.be(4));
    r.take(2);  // is-DST flag and abbreviation index
  }
  if (!r.ok) return std::nullopt;
  for (auto i : type_of) {
    if (i >= type_offsets.size()) return std::nullopt;
    z.offsets_.push_back(type_offsets[i]);
  }
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end())) return std::nullopt;
  // Before the first transition: the first type (RFC 8536 section 3.2).
  z.initial_offset_ = type_offsets[0];
  return z;
}

std::chrono::seconds time_zone::offset_at(std::chrono::system_clock::time_point t) const {
  const auto unix = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  auto after = std::upper_bound(transitions_.begin(), transitions_.end(), unix);
  if (after == transitions_.begin()) return std::chrono::seconds(initial_offset_);
  return std::chrono::seconds(offsets_[static_cast<std::size_t>(after - transitions_.begin() - 1)]);
}

}  // namespace dockmon
