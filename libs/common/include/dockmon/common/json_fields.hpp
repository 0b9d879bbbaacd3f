// Lenient reads of optional JSON fields, for input whose shape was already checked or may vary.
#pragma once

#include "dockmon/common/net.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace dockmon {

// The field's text, or empty when it is missing or not a string.
inline std::string string_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The field as a whole number, or 0 when it is missing or not an integer that fits.
inline std::int64_t int_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

// The field as an object, or null when it is missing or not an object.
inline const json::object* object_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace dockmon
