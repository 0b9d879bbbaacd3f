// Channel settings: each kind's fields checked and defaulted (errors name the field and what it takes),
// secrets masked and kept across an update, and shoutrrr URLs turned into settings.
#include "notify/channel.hpp"

#include "notify/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <span>
#include <vector>

namespace dockmon::server::notify {

namespace {

struct field_info {
  std::string_view name;
  bool secret;
};

constexpr field_info webhook_fields[] = {
    {"url", true}, {"method", false}, {"headers", true}, {"body_template", false}, {"verify_tls", false}};
constexpr field_info chat_webhook_fields[] = {{"webhook_url", true}};
constexpr field_info telegram_fields[] = {{"bot_token", true}, {"chat_id", false}, {"api_url", false}};
constexpr field_info pushover_fields[] = {{"token", true}, {"user", true}, {"device", false}, {"api_url", false}};
constexpr field_info gotify_fields[] = {{"url", false}, {"token", true}, {"verify_tls", false}};
constexpr field_info ntfy_fields[] = {{"url", false},      {"topic", false},    {"token", true},
                                      {"username", false}, {"password", true}, {"verify_tls", false}};
constexpr field_info smtp_fields[] = {{"host", false},     {"port", false}, {"security", false}, {"username", false},
                                      {"password", true}, {"from", false}, {"to", false},       {"verify_tls", false}};

struct type_info {
  channel_type type;
  std::string_view name;
  std::span<const field_info> fields;
};

constexpr std::array types{
    type_info{channel_type::webhook, "webhook", webhook_fields},
    type_info{channel_type::slack, "slack", chat_webhook_fields},
    type_info{channel_type::discord, "discord", chat_webhook_fields},
    type_info{channel_type::teams, "teams", chat_webhook_fields},
    type_info{channel_type::google_chat, "google_chat", chat_webhook_fields},
    type_info{channel_type::telegram, "telegram", telegram_fields},
    type_info{channel_type::pushover, "pushover", pushover_fields},
    type_info{channel_type::gotify, "gotify", gotify_fields},
    type_info{channel_type::ntfy, "ntfy", ntfy_fields},
    type_info{channel_type::smtp, "smtp", smtp_fields},
};

const type_info& info_of(channel_type t) {
  for (const auto& info : types)
    if (info.type == t) return info;
  return types.front();  // unreachable: every enumerator has a row
}

using problem = std::optional<std::string>;

constexpr std::size_t longest_text = 1024;
constexpr std::size_t longest_url = 2048;
// A JSON body is longer than a token or a name; 8 KiB holds any body a chat service takes.
constexpr std::size_t longest_template = 8192;

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The field's value when it is there and not null (null means "not set", as a PATCH clears a field).
const json::value* present(const json::object& in, std::string_view key) {
  const auto* v = in.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::string required(std::string_view key, std::string_view what) {
  return std::string(key) + " is required: " + std::string(what);
}

// Text up to `longest` characters, without control characters unless `multiline`; `out` is left as it
// was when the field is absent.
problem read_text(const json::object& in, std::string_view key, std::string& out, std::size_t longest = longest_text,
                  bool multiline = false) {
  const auto* v = present(in, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string() || v->get_string().size() > longest)
    return std::string(key) + " must be text of at most " + std::to_string(longest) + " characters";
  const auto text = std::string_view(v->get_string());
  const auto bad = [multiline](char c) { return is_control(c) && !(multiline && (c == '\n' || c == '\r' || c == '\t')); };
  if (std::any_of(text.begin(), text.end(), bad)) return std::string(key) + " must not contain control characters";
  out = std::string(text);
  return std::nullopt;
}

problem read_flag(const json::object& in, std::string_view key, bool& out) {
  const auto* v = present(in, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) return std::string(key) + " must be true or false";
  out = v->get_bool();
  return std::nullopt;
}

// Why `url` is not an http(s) URL this server will call, or nothing when it is one.
problem url_fault(std::string_view url) {
  if (url.size() > longest_url) return "must be at most " + std::to_string(longest_url) + " characters";
  if (std::any_of(url.begin(), url.end(), [](char c) { return c == ' ' || is_control(c); }))
    return std::string("must not contain spaces or control characters");
  std::string_view rest;
  if (url.size() >= 7 && iequals(url.substr(0, 7), "http://"))
    rest = url.substr(7);
  else if (url.size() >= 8 && iequals(url.substr(0, 8), "https://"))
    rest = url.substr(8);
  else
    return std::string("must start with http:// or https://");
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return std::string("must name a host (https://host/...)");
  const auto host = authority.front() == '[' ? authority.substr(0, authority.find(']') + 1)  // an IPv6 literal
                                             : authority.substr(0, authority.find(':'));
  if (host.empty()) return std::string("must name a host (https://host/...)");
  return std::nullopt;
}

// An http(s) URL field: required (error naming `what`), or `fallback` when absent and a fallback is given.
problem read_url(const json::object& in, json::object& out, std::string_view key, std::string_view what,
                 std::optional<std::string_view> fallback = std::nullopt) {
  std::string url(fallback.value_or(""));
  const auto* v = present(in, key);
  if (v != nullptr && !v->is_string()) return std::string(key) + " must be text: " + std::string(what);
  if (v != nullptr) url = std::string(v->get_string());
  if (url.empty()) return fallback ? std::string(key) + " must not be empty: " + std::string(what) : required(key, what);
  if (auto fault = url_fault(url)) return std::string(key) + " " + *fault;
  out[key] = url;
  return std::nullopt;
}

problem read_required_text(const json::object& in, json::object& out, std::string_view key, std::string_view what) {
  std::string text;
  if (auto p = read_text(in, key, text)) return p;
  if (text.empty()) return required(key, what);
  out[key] = text;
  return std::nullopt;
}

// An optional text field: kept when non-empty, left out otherwise (an empty form field means "not set").
problem read_optional_text(const json::object& in, json::object& out, std::string_view key) {
  std::string text;
  if (auto p = read_text(in, key, text)) return p;
  if (!text.empty()) out[key] = text;
  return std::nullopt;
}

problem read_verify_tls(const json::object& in, json::object& out) {
  bool verify = true;
  if (auto p = read_flag(in, "verify_tls", verify)) return p;
  out["verify_tls"] = verify;
  return std::nullopt;
}

bool is_token_char(char c) { return is_alnum(c) || c == '-'; }

// Headers the sender writes itself; one from the settings would contradict it or smuggle a second request.
bool is_reserved_header(std::string_view name) {
  for (std::string_view reserved : {"host", "content-length", "transfer-encoding", "connection"})
    if (iequals(name, reserved)) return true;
  return false;
}

problem read_headers(const json::object& in, json::object& out) {
  json::object headers;
  if (const auto* v = present(in, "headers")) {
    if (!v->is_object() || v->get_object().size() > 50)
      return std::string("headers must be an object of at most 50 header names and text values");
    for (const auto& [name, value] : v->get_object()) {
      if (name.empty() || name.size() > 256 || !std::all_of(name.begin(), name.end(), is_token_char))
        return "headers has a bad name \"" + std::string(name) + "\": a header name takes letters, digits and -";
      if (is_reserved_header(name)) return "headers must not set " + std::string(name) + ": the sender sets it";
      if (!value.is_string() || value.get_string().size() > longest_text)
        return "headers." + std::string(name) + " must be text of at most " + std::to_string(longest_text) + " characters";
      const auto text = std::string_view(value.get_string());
      if (std::any_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; }))
        return "headers." + std::string(name) + " must not contain line breaks";
      headers[name] = text;
    }
  }
  out["headers"] = std::move(headers);
  return std::nullopt;
}

// A message whose every field is filled with text that is not a JSON value by itself, so a template that
// leaves a placeholder outside quotes fails the check, and with quotes and a line break, so one that
// would not escape them fails too.
message sample_message() {
  message m;
  m.event = "fired";
  m.title = "[error] web on host-1 stopped (exit code 137)";
  m.text = "Container \"web\" on host-1 stopped\nwith exit code 137.\\";
  m.severity = "error";
  m.kind = "container_stopped";
  m.alert_id = "alert-1";
  m.rule_id = "rule-1";
  m.rule_name = "web stopped";
  m.host_id = "host-1";
  m.host_name = "host 1";
  m.container_id = "c0ffee-1";
  m.container_name = "web";
  m.fired_at = "2024-05-01T12:00:00Z";
  m.resolved_at = "2024-05-01T12:05:00Z";
  m.link = "https://dockmon.example/alerts/alert-1";
  return m;
}

bool is_placeholder_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// The first {{name}} that is not a message field, scanning as render fills: "{{", a name, "}}".
problem unknown_placeholder(std::string_view tpl) {
  const auto known = message_json(message{});
  std::size_t i = 0;
  while (true) {
    const auto open = tpl.find("{{", i);
    if (open == std::string_view::npos) return std::nullopt;
    const auto close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos) return std::nullopt;
    const auto name = trimmed(tpl.substr(open + 2, close - open - 2));
    if (!is_placeholder_name(name)) {
      i = open + 1;
      continue;
    }
    if (!known.contains(name)) {
      std::string names;
      for (const auto& field : known) names += (names.empty() ? "{{" : ", {{") + std::string(field.key()) + "}}";
      return "body_template has an unknown placeholder {{" + std::string(name) + "}}; it takes " + names;
    }
    i = close + 2;
  }
}

problem check_webhook(const json::object& in, json::object& out) {
  if (auto p = read_url(in, out, "url", "the http:// or https:// URL to call")) return p;
  std::string method = "POST";
  if (auto p = read_text(in, "method", method, 16)) return p;
  std::transform(method.begin(), method.end(), method.begin(), upper);
  if (method != "POST" && method != "PUT" && method != "PATCH") return std::string("method must be POST, PUT or PATCH");
  out["method"] = method;
  if (auto p = read_headers(in, out)) return p;
  std::string tpl;
  if (auto p = read_text(in, "body_template", tpl, longest_template, true)) return p;
  out["body_template"] = tpl;
  if (auto p = read_verify_tls(in, out)) return p;
  if (!tpl.empty()) {
    if (auto p = unknown_placeholder(tpl)) return p;
    const auto probe = render(channel_type::webhook, out, sample_message(), "", "");
    error_code ec;
    (void)json::parse(std::get<http_request>(probe).body, ec);
    if (ec)
      return "body_template must be JSON once its placeholders are filled (" + ec.message() +
             "); a placeholder gives text without quotes, so write \"{{title}}\"";
  }
  return std::nullopt;
}

problem check_chat_webhook(const json::object& in, json::object& out, std::string_view service) {
  return read_url(in, out, "webhook_url", "the https:// webhook URL " + std::string(service) + " gave for the channel");
}

bool valid_bot_token(std::string_view token) {
  const auto colon = token.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == token.size()) return false;
  const auto id = token.substr(0, colon), secret = token.substr(colon + 1);
  return std::all_of(id.begin(), id.end(), is_digit) &&
         std::all_of(secret.begin(), secret.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
}

bool valid_chat_id(std::string_view id) {
  if (id.size() > 1 && id.front() == '@')
    return id.size() <= 65 && std::all_of(id.begin() + 1, id.end(), [](char c) { return is_alnum(c) || c == '_'; });
  if (!id.empty() && id.front() == '-') id.remove_prefix(1);
  return !id.empty() && id.size() <= 20 && std::all_of(id.begin(), id.end(), is_digit);
}

problem check_telegram(const json::object& in, json::object& out) {
  if (auto p = read_required_text(in, out, "bot_token", "the token BotFather gave (123456789:AA...)")) return p;
  if (!valid_bot_token(out.at("bot_token").get_string()))
    return std::string("bot_token must look like 123456789:AAF... (digits, a colon, then letters, digits, _ and -)");
  constexpr std::string_view chat_rule =
      "chat_id must be a chat's number (e.g. -1001234567890) or a public channel's @username";
  const auto* chat = present(in, "chat_id");
  if (chat == nullptr) return required("chat_id", "the chat's number or a public channel's @username");
  std::string chat_id;
  if (chat->is_int64())
    chat_id = std::to_string(chat->get_int64());
  else if (chat->is_uint64())
    chat_id = std::to_string(chat->get_uint64());
  else if (chat->is_string())
    chat_id = std::string(trimmed(chat->get_string()));
  else
    return std::string(chat_rule);
  if (chat_id.empty()) return required("chat_id", "the chat's number or a public channel's @username");
  if (!valid_chat_id(chat_id)) return std::string(chat_rule);
  out["chat_id"] = chat_id;
  return read_url(in, out, "api_url", "the Bot API's base URL", "https://api.telegram.org");
}

problem check_pushover(const json::object& in, json::object& out) {
  if (auto p = read_required_text(in, out, "token", "the application's API token")) return p;
  if (auto p = read_required_text(in, out, "user", "the user or group key")) return p;
  if (auto p = read_optional_text(in, out, "device")) return p;
  return read_url(in, out, "api_url", "Pushover's base URL", "https://api.pushover.net");
}

problem check_gotify(const json::object& in, json::object& out) {
  if (auto p = read_url(in, out, "url", "the Gotify server's base URL (https://gotify.example)")) return p;
  if (auto p = read_required_text(in, out, "token", "an application token from Gotify")) return p;
  return read_verify_tls(in, out);
}

bool valid_topic(std::string_view topic) {
  return !topic.empty() && topic.size() <= 64 &&
         std::all_of(topic.begin(), topic.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
}

problem check_ntfy(const json::object& in, json::object& out) {
  if (auto p = read_url(in, out, "url", "the ntfy server's base URL", "https://ntfy.sh")) return p;
  std::string topic;
  if (auto p = read_text(in, "topic", topic)) return p;
  if (topic.empty()) return required("topic", "the topic to publish to (letters, digits, _ and -, at most 64)");
  if (!valid_topic(topic)) return std::string("topic must be 1 to 64 letters, digits, _ and -");
  out["topic"] = topic;
  for (auto key : {"token", "username", "password"})
    if (auto p = read_optional_text(in, out, key)) return p;
  const bool has_user = out.contains("username"), has_password = out.contains("password");
  if (has_user != has_password) return std::string("username and password go together: give both, or neither");
  if (has_user && out.contains("token"))
    return std::string("token and username/password are two ways to sign in: give one of them");
  if (has_user && out.at("username").get_string().find(':') != json::string::npos)
    return std::string("username must not contain ':'");
  return read_verify_tls(in, out);
}

bool valid_host_name(std::string_view host) {
  return !host.empty() && host.size() <= 253 && host.front() != '.' && host.front() != '-' &&
         std::all_of(host.begin(), host.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-'; });
}

bool valid_email(std::string_view address) {
  const auto at = address.find('@');
  if (address.size() > 254 || at == 0 || at == std::string_view::npos || at + 1 == address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(address.begin(), address.end(),
                      [](char c) { return c == ' ' || c == '<' || c == '>' || c == ',' || is_control(c); });
}

problem read_recipients(const json::object& in, json::object& out) {
  constexpr std::string_view rule = "to must be 1 to 20 e-mail addresses (a list, or text separated by commas)";
  const auto* v = present(in, "to");
  if (v == nullptr) return required("to", "the e-mail addresses to send to");
  std::vector<std::string> addresses;
  if (v->is_string()) {
    std::string_view rest = v->get_string();
    if (rest.size() > 20 * 256) return std::string(rule);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (const auto one = trimmed(rest.substr(0, comma)); !one.empty()) addresses.emplace_back(one);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  } else if (v->is_array()) {
    for (const auto& a : v->get_array()) {
      if (!a.is_string()) return std::string(rule);
      addresses.emplace_back(trimmed(a.get_string()));
    }
  } else {
    return std::string(rule);
  }
  if (addresses.empty() || addresses.size() > 20) return std::string(rule);
  json::array to;
  for (const auto& a : addresses) {
    if (!valid_email(a)) return "to has \"" + a + "\", which is not an e-mail address (name@domain)";
    to.emplace_back(a);
  }
  out["to"] = std::move(to);
  return std::nullopt;
}

problem check_smtp(const json::object& in, json::object& out) {
  std::string host;
  if (auto p = read_text(in, "host", host, 253)) return p;
  if (host.empty()) return required("host", "the mail server's name or IPv4 address");
  if (!valid_host_name(host))
    return std::string("host must be the mail server's name or IPv4 address (letters, digits, . and -)");
  out["host"] = host;
  std::string security = "starttls";
  if (auto p = read_text(in, "security", security, 16)) return p;
  security = lowered(security);
  if (security != "starttls" && security != "tls" && security != "none")
    return std::string("security must be starttls, tls or none");
  std::int64_t port = security == "starttls" ? 587 : security == "tls" ? 465 : 25;
  if (const auto* v = present(in, "port")) {
    if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 65535)
      return std::string("port must be a whole number from 1 to 65535");
    port = v->get_int64();
  }
  out["port"] = port;
  out["security"] = security;
  if (auto p = read_optional_text(in, out, "username")) return p;
  if (auto p = read_optional_text(in, out, "password")) return p;
  if (out.contains("password") && !out.contains("username")) return std::string("password needs a username");
  std::string from;
  if (auto p = read_text(in, "from", from, 254)) return p;
  if (from.empty()) return required("from", "the sender's e-mail address");
  if (!valid_email(from)) return std::string("from must be an e-mail address (name@domain)");
  out["from"] = from;
  if (auto p = read_recipients(in, out)) return p;
  return read_verify_tls(in, out);
}

// ---- shoutrrr URLs ----

std::optional<std::string> percent_decoded(std::string_view s, bool plus_is_space = false) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (s[i] == '%') {
      unsigned value = 0;
      if (i + 2 >= s.size()) return std::nullopt;
      const auto* first = s.data() + i + 1;
      if (std::from_chars(first, first + 2, value, 16).ptr != first + 2) return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct query_param {
  std::string key;    // decoded, as written
  std::string value;  // decoded
  std::string raw;    // key=value as written, to forward unchanged
};

// A URL split as Go's net/url splits it, which is how shoutrrr reads it.
struct url_parts {
  std::string scheme;  // lower case
  bool has_userinfo = false, has_password = false;
  std::string user, password;  // decoded
  std::string host, port;      // host as written; port digits or empty
  std::string authority;       // as written, userinfo included
  std::string path;            // as written: empty or starting with '/'
  std::string raw_query;
  std::vector<query_param> query;

  // The last value of a query parameter, its name compared without case; empty when absent.
  std::string param(std::string_view key) const {
    std::string value;
    for (const auto& q : query)
      if (iequals(q.key, key)) value = q.value;
    return value;
  }
};

std::variant<url_parts, std::string> split_url(std::string_view url) {
  url_parts u;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return std::string("a notification URL looks like service://..., e.g. discord://token@id");
  u.scheme = lowered(url.substr(0, sep));
  if (!std::all_of(u.scheme.begin(), u.scheme.end(), [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; }))
    return "the URL's scheme \"" + u.scheme + "\" is not a scheme";
  auto rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find('#'));
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    u.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  const auto slash = rest.find('/');
  u.authority = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  std::string_view hostport = u.authority;
  if (const auto at = hostport.rfind('@'); at != std::string_view::npos) {
    u.has_userinfo = true;
    const auto userinfo = hostport.substr(0, at);
    const auto colon = userinfo.find(':');
    auto user = percent_decoded(userinfo.substr(0, colon));
    auto password = percent_decoded(colon == std::string_view::npos ? "" : userinfo.substr(colon + 1));
    if (!user || !password) return std::string("the URL's user or password has a bad % escape");
    u.user = *user;
    u.password = *password;
    u.has_password = colon != std::string_view::npos;
    hostport.remove_prefix(at + 1);
  }
  const auto host_end = !hostport.empty() && hostport.front() == '[' ? hostport.find(']') : std::string_view::npos;
  const auto colon = hostport.find(':', host_end == std::string_view::npos ? 0 : host_end);
  u.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    u.port = std::string(hostport.substr(colon + 1));
    if (u.port.empty() || u.port.size() > 5 || !std::all_of(u.port.begin(), u.port.end(), is_digit))
      return "the URL's port \"" + u.port + "\" is not a number";
  }
  std::string_view query = u.raw_query;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decoded(pair.substr(0, eq), true);
    auto value = percent_decoded(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return "the URL's query parameter \"" + std::string(pair) + "\" has a bad % escape";
    u.query.push_back({*key, *value, std::string(pair)});
  }
  return u;
}

std::string host_port(const url_parts& u) { return u.port.empty() ? u.host : u.host + ":" + u.port; }

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (const auto one = trimmed(list.substr(0, comma)); !one.empty()) items.emplace_back(one);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return items;
}

std::optional<bool> yes_no(std::string_view value) {
  const auto v = lowered(value);
  if (v == "yes" || v == "true" || v == "1") return true;
  if (v == "no" || v == "false" || v == "0") return false;
  return std::nullopt;
}

using shoutrrr_result = std::variant<typed_config, std::string>;

std::string_view strip_slashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

shoutrrr_result from_discord(const url_parts& u) {
  const auto id = u.host;
  const auto token = u.user;
  if (!u.has_userinfo || token.empty() || id.empty() || !std::all_of(id.begin(), id.end(), is_digit) ||
      !std::all_of(token.begin(), token.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-'; }))
    return std::string("a discord URL is discord://TOKEN@WEBHOOKID (from the webhook URL .../webhooks/WEBHOOKID/TOKEN)");
  json::object c;
  c["webhook_url"] = "https://discord.com/api/webhooks/" + id + "/" + token;
  return typed_config{channel_type::discord, std::move(c)};
}

shoutrrr_result from_slack(const url_parts& u) {
  std::vector<std::string> parts;
  if (iequals(u.host, "webhook") && u.has_password) {
    std::string_view token = u.password;
    while (true) {
      const auto dash = token.find('-');
      parts.emplace_back(token.substr(0, dash));
      if (dash == std::string_view::npos) break;
      token.remove_prefix(dash + 1);
    }
  } else {
    // The legacy form: the webhook's three tokens as host and path, after an optional bot name.
    parts.push_back(u.host);
    std::string_view path = strip_slashes(u.path);
    while (!path.empty()) {
      const auto slash = path.find('/');
      parts.emplace_back(path.substr(0, slash));
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
  }
  const auto token_part = [](const std::string& p) { return !p.empty() && std::all_of(p.begin(), p.end(), is_alnum); };
  if (parts.size() != 3 || !std::all_of(parts.begin(), parts.end(), token_part))
    return std::string("a slack URL is slack://hook:A-B-C@webhook or slack://A/B/C, from the webhook URL "
                       "https://hooks.slack.com/services/A/B/C (bot tokens are not supported)");
  json::object c;
  c["webhook_url"] = "https://hooks.slack.com/services/" + parts[0] + "/" + parts[1] + "/" + parts[2];
  return typed_config{channel_type::slack, std::move(c)};
}

shoutrrr_result from_telegram(const url_parts& u) {
  if (!u.has_userinfo || !u.has_password || !iequals(u.host, "telegram"))
    return std::string("a telegram URL is telegram://BOTTOKEN@telegram?chats=CHAT");
  const auto chats = split_list(u.param("chats"));
  if (chats.empty()) return std::string("a telegram URL needs the chat: telegram://BOTTOKEN@telegram?chats=CHAT");
  if (chats.size() > 1)
    return std::string("a telegram URL here takes one chat; make one channel per chat (chats=") + u.param("chats") + ")";
  json::object c;
  c["bot_token"] = u.user + ":" + u.password;
  c["chat_id"] = chats.front();
  return typed_config{channel_type::telegram, std::move(c)};
}

shoutrrr_result from_ntfy(const url_parts& u) {
  auto scheme = lowered(u.param("scheme"));
  if (scheme.empty()) scheme = "https";
  if (scheme != "https" && scheme != "http") return std::string("an ntfy URL's scheme parameter must be http or https");
  if (u.host.empty()) return std::string("an ntfy URL is ntfy://[USER:PASS@]HOST[:PORT]/TOPIC");
  json::object c;
  c["url"] = scheme + "://" + host_port(u);
  auto topic = percent_decoded(strip_slashes(u.path));
  if (!topic) return std::string("the ntfy topic has a bad % escape");
  c["topic"] = *topic;
  if (u.user.empty() && !u.password.empty()) {
    c["token"] = u.password;  // ntfy://:tk_xxx@host/topic: an access token in the password's place
  } else if (!u.user.empty()) {
    c["username"] = u.user;
    c["password"] = u.password;
  }
  return typed_config{channel_type::ntfy, std::move(c)};
}

shoutrrr_result from_gotify(const url_parts& u) {
  const auto path = strip_slashes(u.path);
  const auto slash = path.rfind('/');
  const auto token = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto prefix = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  if (u.host.empty() || token.empty()) return std::string("a gotify URL is gotify://HOST[:PORT][/PATH]/TOKEN");
  const auto disable_tls = yes_no(u.param("disabletls").empty() ? "no" : u.param("disabletls"));
  if (!disable_tls) return std::string("a gotify URL's disabletls parameter must be yes or no");
  json::object c;
  c["url"] = (*disable_tls ? "http://" : "https://") + host_port(u) + (prefix.empty() ? "" : "/" + std::string(prefix));
  auto decoded = percent_decoded(token);
  if (!decoded) return std::string("the gotify token has a bad % escape");
  c["token"] = *decoded;
  return typed_config{channel_type::gotify, std::move(c)};
}

shoutrrr_result from_pushover(const url_parts& u) {
  if (!u.has_password || u.password.empty() || u.host.empty())
    return std::string("a pushover URL is pushover://shoutrrr:APITOKEN@USERKEY[/?devices=DEVICE]");
  json::object c;
  c["token"] = u.password;
  c["user"] = u.host;
  if (const auto devices = split_list(u.param("devices")); !devices.empty()) c["device"] = devices.front();
  return typed_config{channel_type::pushover, std::move(c)};
}

shoutrrr_result from_smtp(const url_parts& u) {
  if (u.host.empty()) return std::string("an smtp URL is smtp://[USER:PASS@]HOST[:PORT]/?from=FROM&to=TO");
  const auto encryption = lowered(u.param("encryption"));
  std::string security;
  if (encryption == "implicittls") {
    security = "tls";
  } else if (encryption == "none") {
    security = "none";
  } else if (encryption.empty() || encryption == "auto" || encryption == "explicittls") {
    const auto starttls = yes_no(u.param("usestarttls").empty() ? "yes" : u.param("usestarttls"));
    if (!starttls) return std::string("an smtp URL's usestarttls parameter must be yes or no");
    security = *starttls ? "starttls" : "none";
  } else {
    return std::string("an smtp URL's encryption parameter must be None, ExplicitTLS, ImplicitTLS or Auto");
  }
  json::object c;
  c["host"] = u.host;
  if (!u.port.empty()) c["port"] = std::stoi(u.port);
  c["security"] = security;
  if (!u.user.empty()) c["username"] = u.user;
  if (!u.password.empty()) c["password"] = u.password;
  if (!u.param("from").empty()) c["from"] = u.param("from");
  if (!u.param("to").empty()) c["to"] = u.param("to");
  return typed_config{channel_type::smtp, std::move(c)};
}

shoutrrr_result from_google_chat(const url_parts& u) {
  if (u.host.empty() || u.param("key").empty() || u.param("token").empty())
    return std::string("a googlechat URL is googlechat://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN");
  json::object c;
  c["webhook_url"] = "https://" + u.authority + u.path + "?" + u.raw_query;
  return typed_config{channel_type::google_chat, std::move(c)};
}

// "acceptLanguage" -> "Accept-Language": how shoutrrr turns an @header parameter into a header name.
std::string header_name(std::string_view key) {
  std::string name;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i == 0)
      name += upper(key[i]);
    else if (key[i] >= 'A' && key[i] <= 'Z')
      name += std::string("-") + key[i];
    else
      name += key[i];
  }
  return name;
}

// generic://, generic+https:// and generic+http://: the target URL, with shoutrrr's own parameters taken
// out; "@name=value" becomes a header, "_name" is a target parameter that shares a reserved name.
shoutrrr_result from_generic(const url_parts& u) {
  std::string scheme = "https";
  if (u.scheme == "generic+http") scheme = "http";
  if (u.scheme == "generic") {
    const auto disable_tls = yes_no(u.param("disabletls").empty() ? "no" : u.param("disabletls"));
    if (!disable_tls) return std::string("a generic URL's disabletls parameter must be yes or no");
    if (*disable_tls) scheme = "http";
  }
  if (u.host.empty()) return std::string("a generic URL is generic://HOST[:PORT]/PATH or generic+https://HOST/PATH");
  json::object c;
  json::object headers;
  std::string forwarded;
  for (const auto& q : u.query) {
    const auto key = lowered(q.key);
    if (key == "contenttype" || key == "disabletls" || key == "template" || key == "messagekey" || key == "titlekey" ||
        key == "title" || key.starts_with('$'))
      continue;
    if (key == "requestmethod") {
      c["method"] = q.value;
    } else if (key.starts_with('@')) {
      headers[header_name(std::string_view(q.key).substr(1))] = q.value;
    } else {
      forwarded += (forwarded.empty() ? "" : "&") + (q.raw.starts_with('_') ? q.raw.substr(1) : q.raw);
    }
  }
  c["url"] = scheme + "://" + u.authority + u.path + (forwarded.empty() ? "" : "?" + forwarded);
  if (!headers.empty()) c["headers"] = std::move(headers);
  return typed_config{channel_type::webhook, std::move(c)};
}

}  // namespace

std::string_view type_name(channel_type t) { return info_of(t).name; }

std::optional<channel_type> parse_type(std::string_view name) {
  for (const auto& info : types)
    if (info.name == name) return info.type;
  return std::nullopt;
}

std::variant<json::object, std::string> check_config(channel_type type, const json::object& config) {
  const auto& info = info_of(type);
  for (const auto& [key, value] : config) {
    const bool known = std::any_of(info.fields.begin(), info.fields.end(), [&](const field_info& f) { return f.name == key; });
    if (known) continue;
    std::string names;
    for (const auto& f : info.fields) names += (names.empty() ? "" : ", ") + std::string(f.name);
    return "unknown field " + std::string(key) + "; a channel of type " + std::string(info.name) + " takes " + names;
  }
  json::object out;
  problem p;
  switch (type) {
    case channel_type::webhook: p = check_webhook(config, out); break;
    case channel_type::slack: p = check_chat_webhook(config, out, "Slack"); break;
    case channel_type::discord: p = check_chat_webhook(config, out, "Discord"); break;
    case channel_type::teams: p = check_chat_webhook(config, out, "the Teams workflow"); break;
    case channel_type::google_chat: p = check_chat_webhook(config, out, "Google Chat"); break;
    case channel_type::telegram: p = check_telegram(config, out); break;
    case channel_type::pushover: p = check_pushover(config, out); break;
    case channel_type::gotify: p = check_gotify(config, out); break;
    case channel_type::ntfy: p = check_ntfy(config, out); break;
    case channel_type::smtp: p = check_smtp(config, out); break;
  }
  if (p) return *p;
  return out;
}

std::variant<typed_config, std::string> parse_shoutrrr(std::string_view url) {
  if (url.size() > longest_url) return "the URL must be at most " + std::to_string(longest_url) + " characters";
  auto split = split_url(trimmed(url));
  if (auto* error = std::get_if<std::string>(&split)) return *error;
  const auto& u = std::get<url_parts>(split);
  shoutrrr_result result;
  if (u.scheme == "discord")
    result = from_discord(u);
  else if (u.scheme == "slack")
    result = from_slack(u);
  else if (u.scheme == "telegram")
    result = from_telegram(u);
  else if (u.scheme == "ntfy")
    result = from_ntfy(u);
  else if (u.scheme == "gotify")
    result = from_gotify(u);
  else if (u.scheme == "pushover")
    result = from_pushover(u);
  else if (u.scheme == "smtp")
    result = from_smtp(u);
  else if (u.scheme == "googlechat")
    result = from_google_chat(u);
  else if (u.scheme == "generic" || u.scheme == "generic+https" || u.scheme == "generic+http")
    result = from_generic(u);
  else if (u.scheme == "teams")
    return std::string("teams:// URLs are for Office 365 connectors, which Microsoft retired; use type teams with the "
                       "workflow's webhook_url");
  else
    return "the scheme " + u.scheme +
           ":// is not supported; supported are discord, slack, telegram, ntfy, gotify, pushover, smtp, googlechat, "
           "generic, generic+https and generic+http";
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  auto& typed = std::get<typed_config>(result);
  auto checked = check_config(typed.type, typed.config);
  if (auto* error = std::get_if<std::string>(&checked)) return *error;
  return typed_config{typed.type, std::move(std::get<json::object>(checked))};
}

bool is_secret_field(channel_type type, std::string_view field) {
  const auto& fields = info_of(type).fields;
  return std::any_of(fields.begin(), fields.end(), [&](const field_info& f) { return f.secret && f.name == field; });
}

json::object masked(channel_type type, const json::object& config) {
  json::object out = config;
  for (auto& [key, value] : out) {
    if (!is_secret_field(type, key) || value.is_null()) continue;
    if (value.is_object()) {
      for (auto& [name, header] : value.get_object())
        if (!(header.is_string() && header.get_string().empty())) header = masked_secret;
    } else if (!(value.is_string() && value.get_string().empty())) {
      value = masked_secret;
    }
  }
  return out;
}

json::object merged(channel_type type, const json::object& stored, const json::object& update) {
  json::object out = stored;
  for (const auto& [key, value] : update) {
    if (value.is_null()) {
      out.erase(key);
      continue;
    }
    const bool secret = is_secret_field(type, key);
    if (secret && value.is_string() && value.get_string() == masked_secret) continue;  // the stored value stays
    if (secret && value.is_object()) {
      // Headers: the update's set replaces the stored one, but a value sent back masked is the stored value.
      const auto* old = stored.if_contains(key);
      const auto* old_headers = old != nullptr && old->is_object() ? &old->get_object() : nullptr;
      json::object headers;
      for (const auto& [name, header] : value.get_object()) {
        if (!(header.is_string() && header.get_string() == masked_secret)) {
          headers[name] = header;
        } else if (old_headers != nullptr && old_headers->contains(name)) {
          headers[name] = old_headers->at(name);
        }
      }
      out[key] = std::move(headers);
      continue;
    }
    out[key] = value;
  }
  return out;
}

}  // namespace dockmon::server::notify
