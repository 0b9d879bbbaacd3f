// A window is tested in local time: the instant moved by the zone's offset then, its weekday and minute.
#include "alerts/blackout.hpp"

#include <algorithm>
#include <charconv>

namespace dockmon::server::alerts {

namespace {

constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// "HH:MM" from 00:00 to 23:59 as minutes; -1 otherwise.
int minute_of(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  int h = 0, m = 0;
  auto [he, hec] = std::from_chars(text.data(), text.data() + 2, h);
  auto [me, mec] = std::from_chars(text.data() + 3, text.data() + 5, m);
  if (hec != std::errc{} || mec != std::errc{} || he != text.data() + 2 || me != text.data() + 5 || h > 23 || m > 59 || h < 0 || m < 0)
    return -1;
  return h * 60 + m;
}

std::string clock_text(int minute) {
  const auto two = [](int n) { return std::string(1, static_cast<char>('0' + n / 10)) + static_cast<char>('0' + n % 10); };
  return two(minute / 60) + ":" + two(minute % 60);
}

}  // namespace

bool blackout::covers(const std::string& host_id, time_point now) const {
  if (!host_ids.empty() && std::find(host_ids.begin(), host_ids.end(), host_id) == host_ids.end()) return false;
  const auto local = now + zone->offset_at(now);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const auto minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  const unsigned weekday = std::chrono::weekday(std::chrono::sys_days(day)).iso_encoding() - 1;  // Monday 0
  const unsigned yesterday = (weekday + 6) % 7;
  if (start_minute < end_minute) return days[weekday] && minute >= start_minute && minute < end_minute;
  // Across midnight (or a whole day when start and end are equal): the part from the start on the chosen
  // day, and the part until the end on the day after it.
  return (days[weekday] && minute >= start_minute) || (days[yesterday] && minute < end_minute);
}

std::variant<blackout, std::string> parse_blackout(std::string id, std::string name, const json::value& definition) {
  if (!definition.is_object()) return std::string("a blackout must be a JSON object");
  const auto& d = definition.get_object();
  for (const auto& [key, value] : d) {
    if (key != "days" && key != "start" && key != "end" && key != "time_zone" && key != "hosts")
      return "unknown field " + std::string(key) + "; a blackout takes days, start, end, time_zone and hosts";
  }
  blackout b;
  b.id = std::move(id);
  b.name = std::move(name);
  const auto* days = d.if_contains("days");
  if (days == nullptr || days->is_null()) {
    b.days.fill(true);
  } else {
    if (!days->is_array() || days->get_array().empty()) return std::string("days must be a list of mon, tue, wed, thu, fri, sat, sun");
    for (const auto& day : days->get_array()) {
      const auto* found = day.is_string() ? std::find(day_names.begin(), day_names.end(), day.get_string()) : day_names.end();
      if (found == day_names.end()) return std::string("days must be a list of mon, tue, wed, thu, fri, sat, sun");
      b.days[static_cast<std::size_t>(found - day_names.begin())] = true;
    }
  }
  for (auto [key, target] : {std::pair{"start", &b.start_minute}, std::pair{"end", &b.end_minute}}) {
    const auto* v = d.if_contains(key);
    *target = v != nullptr && v->is_string() ? minute_of(v->get_string()) : -1;
    if (*target < 0) return std::string(key) + " must be a time of day as HH:MM (00:00 to 23:59)";
  }
  std::string zone_name = "UTC";
  if (const auto* z = d.if_contains("time_zone"); z != nullptr && !z->is_null()) {
    if (!z->is_string()) return std::string("time_zone must be a zone name such as Europe/Berlin");
    zone_name = std::string(z->get_string());
  }
  auto zone = time_zone::load(zone_name);
  if (!zone) return "time_zone " + zone_name + " is not a zone this system knows (a name such as Europe/Berlin or UTC)";
  b.zone = std::make_shared<const time_zone>(std::move(*zone));
  if (const auto* hosts = d.if_contains("hosts"); hosts != nullptr && !hosts->is_null()) {
    if (!hosts->is_array() || hosts->get_array().size() > 1000) return std::string("hosts must be a list of at most 1000 host ids");
    for (const auto& h : hosts->get_array()) {
      if (!h.is_string() || h.get_string().empty() || h.get_string().size() > 64) return std::string("hosts must hold host ids");
      b.host_ids.emplace_back(h.get_string());
    }
  }
  return b;
}

json::object definition_json(const blackout& b) {
  json::array days, hosts;
  for (std::size_t i = 0; i < b.days.size(); ++i)
    if (b.days[i]) days.emplace_back(day_names[i]);
  for (const auto& h : b.host_ids) hosts.emplace_back(h);
  return json::object{{"days", std::move(days)},
                      {"start", clock_text(b.start_minute)},
                      {"end", clock_text(b.end_minute)},
                      {"time_zone", b.zone->name()},
                      {"hosts", std::move(hosts)}};
}

}  // namespace dockmon::server::alerts
