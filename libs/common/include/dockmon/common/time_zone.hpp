// A time zone from the system's database (/usr/share/zoneinfo, Debian's tzdata), for schedules people
// write in their own time ("weekdays 22:00 to 06:00, Europe/Berlin"). g++ 12's library has no
// std::chrono::tzdb, so this reads the compiled TZif files itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon {

class time_zone {
 public:
  // The zone by its IANA name ("Europe/Berlin", "UTC"); nullopt for a name that is not one (or tries to
  // leave the database's folder) or a file that is not TZif.
  static std::optional<time_zone> load(std::string_view name, const std::string& database = "/usr/share/zoneinfo");
  // The zone from a TZif file's bytes.
  static std::optional<time_zone> parse(std::string_view name, std::string_view tzif);

  const std::string& name() const { return name_; }
  // Local time minus UTC at that instant (daylight saving included). After the file's last transition
  // (2037 in Debian's files) the last offset holds.
  std::chrono::seconds offset_at(std::chrono::system_clock::time_point t) const;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // Unix seconds, ascending
  std::vector<std::int32_t> offsets_;      // after each transition
  std::int32_t initial_offset_ = 0;        // before the first
};

}  // namespace dockmon
