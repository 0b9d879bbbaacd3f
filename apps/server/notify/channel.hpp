// Notification channels: the kinds this server delivers to, their settings checked and defaulted, the
// secrets among them masked for the API, and the shoutrrr-style URLs Beszel's users already have. Pure
// logic, no I/O.
#pragma once

#include "dockmon/common/net.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace dockmon::server::notify {

enum class channel_type { webhook, slack, discord, teams, google_chat, telegram, pushover, gotify, ntfy, smtp };

std::string_view type_name(channel_type t);
std::optional<channel_type> parse_type(std::string_view name);

// What the API shows in place of a secret; a PATCH that sends it back keeps the stored secret.
inline constexpr std::string_view masked_secret = "********";

// The settings of a channel of this type, checked, with every default filled in; or an error that names
// the field and says what it takes.
std::variant<json::object, std::string> check_config(channel_type type, const json::object& config);

// A channel from a shoutrrr-style URL (discord://token@id, telegram://token@telegram?chats=..., ...),
// its settings checked as check_config does.
struct typed_config {
  channel_type type;
  json::object config;
};
std::variant<typed_config, std::string> parse_shoutrrr(std::string_view url);

// Whether a field of this type's settings is a secret (a webhook URL, a token, a password, a header).
bool is_secret_field(channel_type type, std::string_view field);
// The settings as the API answers them: every secret replaced by masked_secret.
json::object masked(channel_type type, const json::object& config);
// The stored settings with an update laid over them; a secret sent back masked keeps its stored value.
json::object merged(channel_type type, const json::object& stored, const json::object& update);

}  // namespace dockmon::server::notify
