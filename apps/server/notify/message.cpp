// Each channel's request as its service documents it, and the e-mail for smtp, from one message. Header
// values never carry a line break, so a container name cannot add a header or end the headers early.
#include "notify/message.hpp"

#include "dockmon/common/json_fields.hpp"

#include <algorithm>
#include <array>

namespace dockmon::server::notify {

namespace {

// The message's fields in the order the default webhook body lists them; the names are also the
// placeholders a body template takes.
constexpr std::array fields{
    std::pair{"event", &message::event},
    std::pair{"title", &message::title},
    std::pair{"text", &message::text},
    std::pair{"severity", &message::severity},
    std::pair{"kind", &message::kind},
    std::pair{"alert_id", &message::alert_id},
    std::pair{"rule_id", &message::rule_id},
    std::pair{"rule_name", &message::rule_name},
    std::pair{"host_id", &message::host_id},
    std::pair{"host_name", &message::host_name},
    std::pair{"container_id", &message::container_id},
    std::pair{"container_name", &message::container_name},
    std::pair{"fired_at", &message::fired_at},
    std::pair{"resolved_at", &message::resolved_at},
    std::pair{"link", &message::link},
};

bool flag_of(const json::object& config, std::string_view key, bool fallback) {
  const auto* v = config.if_contains(key);
  return v != nullptr && v->is_bool() ? v->get_bool() : fallback;
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// A header value on one line: each run of CR and LF becomes one space.
std::string one_line(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r' && s[i] != '\n') {
      out += s[i];
      continue;
    }
    out += ' ';
    while (i + 1 < s.size() && (s[i + 1] == '\r' || s[i + 1] == '\n')) ++i;
  }
  return out;
}

// At most `longest` code points of UTF-8 text, never cutting one in half.
std::string cut(std::string_view s, std::size_t longest) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (points == longest) return std::string(s.substr(0, i));
    ++points;
  }
  return std::string(s);
}

std::string base64(std::string_view bytes) {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const auto byte = [&](std::size_t k) { return i + k < bytes.size() ? static_cast<unsigned char>(bytes[i + k]) : 0u; };
    const unsigned group = byte(0) << 16 | byte(1) << 8 | byte(2);
    out += alphabet[group >> 18 & 63];
    out += alphabet[group >> 12 & 63];
    out += i + 1 < bytes.size() ? alphabet[group >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? alphabet[group & 63] : '=';
  }
  return out;
}

// A header value as RFC 2047 encoded words when it has bytes beyond ASCII. 39 bytes (cut between code
// points) per word keeps "Subject: " and one word within the 76 characters the RFC allows a line.
std::string encoded_words(std::string_view value, std::string_view between) {
  if (std::all_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return std::string(value);
  std::string out;
  while (!value.empty()) {
    std::size_t n = std::min<std::size_t>(39, value.size());
    while (n < value.size() && n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min<std::size_t>(39, value.size());  // not UTF-8: cut anywhere
    out += (out.empty() ? "" : std::string(between)) + "=?UTF-8?B?" + base64(value.substr(0, n)) + "?=";
    value.remove_prefix(n);
  }
  return out;
}

// A value for application/x-www-form-urlencoded, everything but the unreserved characters escaped.
std::string form_encoded(std::string_view s) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                       c == '_' || c == '~';
    if (plain) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 15];
    }
  }
  return out;
}

// Text as it goes between the quotes of a JSON string.
std::string json_escaped(std::string_view s) {
  auto quoted = json::serialize(json::string(s));
  return quoted.substr(1, quoted.size() - 2);
}

// The template with each {{name}} of a message field replaced by the field's text, JSON-escaped for a JSON
// body. Anything else stays as written (check_config refuses a body template with an unknown name before
// it is stored).
std::string filled(std::string_view tpl, const json::object& values, bool escape) {
  std::string out;
  std::size_t i = 0;
  while (i < tpl.size()) {
    const auto open = tpl.find("{{", i);
    const auto close = open == std::string_view::npos ? open : tpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    auto name = tpl.substr(open + 2, close - open - 2);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    const auto* value = values.if_contains(name);
    if (value == nullptr || !value->is_string()) {
      out.append(tpl.substr(i, open + 1 - i));
      i = open + 1;
      continue;
    }
    out.append(tpl.substr(i, open - i));
    out += escape ? json_escaped(value->get_string()) : std::string(value->get_string());
    i = close + 2;
  }
  out.append(tpl.substr(std::min(i, tpl.size())));
  return out;
}

http_request json_post(std::string url, const json::value& body) {
  http_request r;
  r.method = "POST";
  r.url = std::move(url);
  r.headers = {{"Content-Type", "application/json"}};
  r.body = json::serialize(body);
  return r;
}

// Slack reads <...> as a link or a mention (<!channel>), so a container's name must not carry one.
std::string slack_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

int discord_color(const message& m) {
  if (m.event == "resolved") return 0x2ecc71;
  if (m.severity == "warning") return 0xf39c12;
  if (m.severity == "error") return 0xe74c3c;
  if (m.severity == "critical") return 0x992d22;
  return 0x3498db;
}

// A webhook's own Content-Type (its receiver may want another JSON type) replaces the default.
bool is_content_type(std::string_view name) {
  constexpr std::string_view content_type = "content-type";
  return name.size() == content_type.size() &&
         std::equal(name.begin(), name.end(), content_type.begin(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b; });
}

bool is_fired(const message& m) { return m.event != "resolved" && m.event != "test"; }

http_request render_webhook(const json::object& config, const message& m) {
  http_request r;
  r.method = string_field(config, "method");
  if (r.method.empty()) r.method = "POST";
  r.url = string_field(config, "url");
  r.verify_tls = flag_of(config, "verify_tls", true);
  bool has_content_type = false;
  if (const auto* headers = config.if_contains("headers"); headers != nullptr && headers->is_object()) {
    for (const auto& [name, value] : headers->get_object()) {
      if (!value.is_string()) continue;
      has_content_type = has_content_type || is_content_type(name);
      r.headers.emplace_back(name, one_line(value.get_string()));
    }
  }
  if (!has_content_type) r.headers.insert(r.headers.begin(), {"Content-Type", "application/json"});
  const auto tpl = string_field(config, "body_template");
  r.body = tpl.empty() ? json::serialize(message_json(m)) : filled(tpl, message_json(m), true);
  return r;
}

http_request render_slack(const json::object& config, const message& m) {
  // The bold title as Slack's markup writes it.
  return json_post(string_field(config, "webhook_url"),
                   json::object{{"text", "*" + slack_escaped(m.title) + "*\n" + slack_escaped(m.text)}});
}

http_request render_discord(const json::object& config, const message& m) {
  json::object embed{{"title", cut(m.title, 256)}, {"description", cut(m.text, 4096)}, {"color", discord_color(m)}};
  if (!m.link.empty()) embed["url"] = m.link;
  return json_post(string_field(config, "webhook_url"), json::object{{"embeds", json::array{std::move(embed)}}});
}

http_request render_teams(const json::object& config, const message& m) {
  json::object card{
      {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
      {"type", "AdaptiveCard"},
      {"version", "1.4"},
      {"body", json::array{json::object{{"type", "TextBlock"}, {"text", m.title}, {"weight", "Bolder"}, {"wrap", true}},
                           json::object{{"type", "TextBlock"}, {"text", m.text}, {"wrap", true}}}},
  };
  if (!m.link.empty())
    card["actions"] = json::array{json::object{{"type", "Action.OpenUrl"}, {"title", "Open alert"}, {"url", m.link}}};
  json::object attachment{{"contentType", "application/vnd.microsoft.card.adaptive"}, {"content", std::move(card)}};
  return json_post(string_field(config, "webhook_url"),
                   json::object{{"type", "message"}, {"attachments", json::array{std::move(attachment)}}});
}

http_request render_google_chat(const json::object& config, const message& m) {
  return json_post(string_field(config, "webhook_url"), json::object{{"text", "*" + m.title + "*\n" + m.text}});
}

http_request render_telegram(const json::object& config, const message& m) {
  // The Bot API refuses a message over 4096 characters rather than cutting it.
  const auto url = without_trailing_slash(string_field(config, "api_url")) + "/bot" + string_field(config, "bot_token");
  return json_post(url + "/sendMessage",
                   json::object{{"chat_id", string_field(config, "chat_id")},
                                {"text", cut(m.title + "\n\n" + m.text, 4096)},
                                {"disable_web_page_preview", true}});
}

http_request render_pushover(const json::object& config, const message& m) {
  const char* priority = "0";
  if (is_fired(m)) {
    if (m.severity == "info") priority = "-1";
    if (m.severity == "error" || m.severity == "critical") priority = "1";
  }
  // Pushover takes a title of 250 characters and a message of 1024.
  std::vector<std::pair<std::string, std::string>> form{{"token", string_field(config, "token")},
                                                        {"user", string_field(config, "user")},
                                                        {"title", cut(m.title, 250)},
                                                        {"message", cut(m.text, 1024)},
                                                        {"priority", priority}};
  if (!m.link.empty()) {
    form.emplace_back("url", m.link);
    form.emplace_back("url_title", "Open alert");
  }
  if (const auto device = string_field(config, "device"); !device.empty()) form.emplace_back("device", device);
  http_request r;
  r.method = "POST";
  r.url = without_trailing_slash(string_field(config, "api_url")) + "/1/messages.json";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [name, value] : form) r.body += (r.body.empty() ? "" : "&") + name + "=" + form_encoded(value);
  return r;
}

http_request render_gotify(const json::object& config, const message& m) {
  int priority = 2;
  if (is_fired(m)) {
    if (m.severity == "warning") priority = 5;
    if (m.severity == "error") priority = 8;
    if (m.severity == "critical") priority = 10;
  }
  json::object body{{"title", m.title}, {"message", m.text}, {"priority", priority}};
  if (!m.link.empty())  // Gotify's Android app opens this URL when the notification is tapped
    body["extras"] = json::object{{"client::notification", json::object{{"click", json::object{{"url", m.link}}}}}};
  auto r = json_post(without_trailing_slash(string_field(config, "url")) + "/message", body);
  r.headers.emplace_back("X-Gotify-Key", string_field(config, "token"));
  r.verify_tls = flag_of(config, "verify_tls", true);
  return r;
}

http_request render_ntfy(const json::object& config, const message& m) {
  std::string priority = "3", tags = "warning";
  if (m.event == "resolved") {
    tags = "white_check_mark";
  } else if (m.event == "test") {
    tags = "test_tube";
  } else if (m.severity == "error" || m.severity == "critical") {
    tags = "rotating_light";
    priority = m.severity == "critical" ? "5" : "4";
  }
  http_request r;
  r.method = "POST";
  r.url = without_trailing_slash(string_field(config, "url")) + "/" + string_field(config, "topic");
  r.verify_tls = flag_of(config, "verify_tls", true);
  r.headers = {{"Content-Type", "text/plain; charset=utf-8"},
               {"Title", encoded_words(one_line(m.title), " ")},
               {"Priority", priority},
               {"Tags", tags}};
  if (!m.link.empty()) r.headers.emplace_back("Click", one_line(m.link));
  if (const auto token = string_field(config, "token"); !token.empty())
    r.headers.emplace_back("Authorization", "Bearer " + one_line(token));
  else if (const auto user = string_field(config, "username"); !user.empty())
    r.headers.emplace_back("Authorization", "Basic " + base64(user + ":" + string_field(config, "password")));
  r.body = m.text;
  return r;
}

mail render_smtp(const json::object& config, const message& m, std::string_view message_id, std::string_view date) {
  mail e;
  const auto security = string_field(config, "security");
  const auto* port = config.if_contains("port");
  const auto port_text = port != nullptr && port->is_int64() ? std::to_string(port->get_int64()) : std::string("587");
  e.url = (security == "tls" ? "smtps://" : "smtp://") + string_field(config, "host") + ":" + port_text;
  e.starttls = security == "starttls";
  e.verify_tls = flag_of(config, "verify_tls", true);
  e.username = string_field(config, "username");
  e.password = string_field(config, "password");
  e.from = string_field(config, "from");
  if (const auto* to = config.if_contains("to"); to != nullptr && to->is_array())
    for (const auto& a : to->get_array())
      if (a.is_string()) e.to.emplace_back(a.get_string());
  // Twenty addresses would pass the 998 characters a header line may have: fold before one that would
  // take the line past 78.
  std::string to_line;
  std::size_t line_length = 4;  // "To: "
  for (const auto& a : e.to) {
    const auto address = one_line(a);
    if (!to_line.empty()) {
      to_line += ",";
      if (line_length + 2 + address.size() > 78) {
        to_line += "\r\n";
        line_length = 0;
      }
      to_line += " ";
      line_length += 2;
    }
    to_line += address;
    line_length += address.size();
  }
  const auto id = one_line(message_id);
  auto& d = e.data;
  d += "From: " + one_line(e.from) + "\r\n";
  d += "To: " + to_line + "\r\n";
  d += "Subject: " + encoded_words(one_line(m.title), "\r\n ") + "\r\n";
  d += "Date: " + one_line(date) + "\r\n";
  d += "Message-ID: " + (id.starts_with('<') ? id : "<" + id + ">") + "\r\n";
  d += "MIME-Version: 1.0\r\n";
  d += "Content-Type: text/plain; charset=utf-8\r\n";
  d += "Content-Transfer-Encoding: 8bit\r\n";
  d += "\r\n";
  std::string_view body = m.text;
  while (!body.empty()) {
    const auto end = body.find('\n');
    auto line = body.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    d.append(line);
    d += "\r\n";
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
  }
  return e;
}

}  // namespace

std::string fill_template(std::string_view tpl, const message& m) { return filled(tpl, message_json(m), false); }

json::object message_json(const message& m) {
  json::object o;
  for (const auto& [name, member] : fields) o[name] = m.*member;
  return o;
}

message message_from_json(const json::object& o) {
  message m;
  for (const auto& [name, member] : fields) m.*member = string_field(o, name);
  return m;
}

delivery render(channel_type type, const json::object& config, const message& m, std::string_view message_id,
                std::string_view date) {
  switch (type) {
    case channel_type::webhook: return render_webhook(config, m);
    case channel_type::slack: return render_slack(config, m);
    case channel_type::discord: return render_discord(config, m);
    case channel_type::teams: return render_teams(config, m);
    case channel_type::google_chat: return render_google_chat(config, m);
    case channel_type::telegram: return render_telegram(config, m);
    case channel_type::pushover: return render_pushover(config, m);
    case channel_type::gotify: return render_gotify(config, m);
    case channel_type::ntfy: return render_ntfy(config, m);
    case channel_type::smtp: return render_smtp(config, m, message_id, date);
  }
  return http_request{};  // unreachable: the switch names every channel_type
}

}  // namespace dockmon::server::notify
