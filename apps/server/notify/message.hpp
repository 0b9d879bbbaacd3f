// One notification as each channel carries it: the HTTP request a chat service documents, or the e-mail.
// Pure logic, no I/O; sender.hpp sends what this makes.
#pragma once

#include "notify/channel.hpp"

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dockmon::server::notify {

// What to say, whichever channel says it. Made when the alert changes and kept in the outbox as JSON, so
// a retry says the same thing.
struct message {
  std::string event;     // "fired", "resolved" or "test"
  std::string title;     // one line, e.g. "[error] web on host-1 stopped (exit code 137)"
  std::string text;      // the body: what happened, where, when, and the link
  std::string severity;  // info, warning, error, critical
  std::string kind;      // the rule's kind, e.g. container_stopped
  std::string alert_id, rule_id, rule_name;
  std::string host_id, host_name, container_id, container_name;
  std::string fired_at, resolved_at;  // ISO 8601
  std::string link;                   // to the alert in the UI; empty without a public URL
};

json::object message_json(const message& m);
// A rule's own text with each {{field}} of the message (title, severity, host_name, container_name, link,
// ...) replaced by its value; an unknown name stays as written.
std::string fill_template(std::string_view tpl, const message& m);
message message_from_json(const json::object& o);  // missing fields stay empty

struct http_request {
  std::string method;  // POST, PUT or PATCH
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type among them
  std::string body;
  bool verify_tls = true;
};

struct mail {
  std::string url;  // smtp://host:port or smtps://host:port
  bool starttls = false;  // upgrade a smtp:// connection, and refuse to go on without it
  bool verify_tls = true;
  std::string username, password;  // empty: no AUTH
  std::string from;
  std::vector<std::string> to;
  std::string data;  // the whole message (headers, blank line, body), CRLF line ends
};

using delivery = std::variant<http_request, mail>;

// The request or mail for a channel of this type with these (checked) settings. `message_id` and `date`
// are the e-mail's Message-ID and Date headers (the caller's clock and host name keep this pure).
delivery render(channel_type type, const json::object& config, const message& m, std::string_view message_id,
                std::string_view date);

}  // namespace dockmon::server::notify
