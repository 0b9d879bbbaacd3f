// Each channel's request or e-mail for one message, checked field by field against what its service takes.
#include "notify/message.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dockmon::server::notify;
namespace json = boost::json;

// GoogleTest prints a failed comparison of JSON as JSON rather than as bytes.
namespace boost::json {
inline void PrintTo(const object& o, std::ostream* os) { *os << serialize(o); }
inline void PrintTo(const value& v, std::ostream* os) { *os << serialize(v); }
}  // namespace boost::json

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

message fired() {
  message m;
  m.event = "fired";
  m.title = "[error] web on host-1 stopped (exit code 137)";
  m.text = "Container web stopped.\nSee https://dockmon.example/alerts/a1?x=1&y=2";
  m.severity = "error";
  m.kind = "container_stopped";
  m.alert_id = "a1";
  m.rule_id = "r1";
  m.rule_name = "web down";
  m.host_id = "h1";
  m.host_name = "host-1";
  m.container_id = "c0ffee";
  m.container_name = "web";
  m.fired_at = "2024-05-01T12:00:00Z";
  m.link = "https://dockmon.example/alerts/a1";
  return m;
}

// The settings as check_config gives them, so each render sees what a stored channel holds.
json::object settings(channel_type type, std::string_view config) {
  auto result = check_config(type, obj(config));
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "refused: " << *error;
    return {};
  }
  return std::get<json::object>(result);
}

http_request request(channel_type type, std::string_view config, const message& m) {
  auto d = render(type, settings(type, config), m, "id-1@dockmon", "Wed, 01 May 2024 12:00:00 +0000");
  EXPECT_TRUE(std::holds_alternative<http_request>(d));
  return std::holds_alternative<http_request>(d) ? std::get<http_request>(d) : http_request{};
}

json::object body_of(const http_request& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << r.body;
  return v.is_object() ? v.as_object() : json::object{};
}

}  // namespace

TEST(message, json_round_trip) {
  const auto m = fired();
  const auto o = message_json(m);
  EXPECT_EQ(o.size(), 15u);
  EXPECT_EQ(o.at("title"), json::value(m.title));
  EXPECT_EQ(o.at("resolved_at"), "");
  EXPECT_EQ(o.at("container_name"), "web");
  const auto back = message_from_json(o);
  EXPECT_EQ(message_json(back), o);
  const auto partial = message_from_json(obj(R"({"title":"t","severity":7})"));
  EXPECT_EQ(partial.title, "t");
  EXPECT_EQ(partial.severity, "") << "a field that is not text stays empty";
  EXPECT_EQ(partial.link, "");
}

TEST(message, webhook_default_body) {
  const auto r = request(channel_type::webhook, R"({"url":"https://hooks.example/in","verify_tls":false})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.example/in");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_FALSE(r.verify_tls);
  EXPECT_EQ(body_of(r), message_json(fired()));
  EXPECT_EQ(r.body.substr(0, 39), R"({"event":"fired","title":"[error] web o)") << "the fields in the documented order";
}

TEST(message, webhook_headers_method_and_template) {
  const auto config =
      R"({"url":"https://hooks.example/in","method":"PATCH","headers":{"X-Key":"k1","Content-Type":"application/vnd.x+json"},)"
      R"("body_template":"{\"summary\":\"{{title}}\",\"details\":\"{{ text }}\",)"
      R"(\"where\":\"{{host_name}}/{{container_name}}\",\"open\":\"{{link}}\",\"raw\":\"{{nope\"}"})";
  auto m = fired();
  m.title = R"(web "prod" \ stopped)";
  const auto r = request(channel_type::webhook, config, m);
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.headers, (header_list{{"X-Key", "k1"}, {"Content-Type", "application/vnd.x+json"}}))
      << "the channel's own Content-Type replaces the default";
  EXPECT_TRUE(r.verify_tls);
  const auto body = body_of(r);
  EXPECT_EQ(body.at("summary"), R"(web "prod" \ stopped)");
  EXPECT_EQ(body.at("details"), json::value(m.text));
  EXPECT_EQ(body.at("where"), "host-1/web");
  EXPECT_EQ(body.at("open"), "https://dockmon.example/alerts/a1");
  EXPECT_EQ(body.at("raw"), "{{nope") << "text that is not a placeholder stays";
  EXPECT_EQ(body.size(), 5u);
}

TEST(message, slack) {
  auto m = fired();
  m.container_name = "<!channel>";
  m.title = "web & <!channel> stopped";
  const auto r = request(channel_type::slack, R"({"webhook_url":"https://hooks.slack.com/services/A/B/C"})", m);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.slack.com/services/A/B/C");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_EQ(body_of(r), (json::object{{"text", "*web &amp; &lt;!channel&gt; stopped*\n"
                                              "Container web stopped.\nSee https://dockmon.example/alerts/a1?x=1&amp;y=2"}}))
      << "Slack's <...> markup escaped, so a name cannot mention everyone";
}

TEST(message, google_chat) {
  const auto r = request(channel_type::google_chat,
                         R"({"webhook_url":"https://chat.googleapis.com/v1/spaces/S/messages?key=K&token=T"})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://chat.googleapis.com/v1/spaces/S/messages?key=K&token=T");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_EQ(body_of(r), (json::object{{"text", "*" + fired().title + "*\n" + fired().text}}));
}

TEST(message, discord) {
  const auto config = R"({"webhook_url":"https://discord.com/api/webhooks/1/T"})";
  auto r = request(channel_type::discord, config, fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://discord.com/api/webhooks/1/T");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_EQ(body_of(r), obj(R"json({"embeds":[{"title":"[error] web on host-1 stopped (exit code 137)",
      "description":"Container web stopped.\nSee https://dockmon.example/alerts/a1?x=1&y=2","color":15158332,
      "url":"https://dockmon.example/alerts/a1"}]})json"));

  auto m = fired();
  m.link.clear();
  m.title = std::string(255, 'a') + "\xc3\xa9" + "tail";  // the 256th character is two bytes
  m.text = std::string(5000, 'x');
  const auto embed = body_of(request(channel_type::discord, config, m)).at("embeds").at(0).as_object();
  EXPECT_EQ(embed.at("title"), json::value(std::string(255, 'a') + "\xc3\xa9"));
  EXPECT_EQ(embed.at("description"), json::value(std::string(4096, 'x')));
  EXPECT_FALSE(embed.contains("url"));

  const auto color = [&](std::string event, std::string severity) {
    auto c = fired();
    c.event = std::move(event);
    c.severity = std::move(severity);
    return body_of(request(channel_type::discord, config, c)).at("embeds").at(0).at("color").as_int64();
  };
  EXPECT_EQ(color("resolved", "critical"), 0x2ecc71);
  EXPECT_EQ(color("fired", "info"), 0x3498db);
  EXPECT_EQ(color("fired", "warning"), 0xf39c12);
  EXPECT_EQ(color("fired", "error"), 0xe74c3c);
  EXPECT_EQ(color("fired", "critical"), 0x992d22);
}

TEST(message, teams_adaptive_card) {
  const auto config = R"({"webhook_url":"https://prod.westus.logic.azure.com/workflows/w/triggers/manual/paths/invoke?sig=s"})";
  auto r = request(channel_type::teams, config, fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://prod.westus.logic.azure.com/workflows/w/triggers/manual/paths/invoke?sig=s");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_EQ(body_of(r), obj(R"json({"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
      "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",
      "body":[{"type":"TextBlock","text":"[error] web on host-1 stopped (exit code 137)","weight":"Bolder","wrap":true},
              {"type":"TextBlock","text":"Container web stopped.\nSee https://dockmon.example/alerts/a1?x=1&y=2","wrap":true}],
      "actions":[{"type":"Action.OpenUrl","title":"Open alert","url":"https://dockmon.example/alerts/a1"}]}}]})json"));
  auto m = fired();
  m.link.clear();
  const auto card = body_of(request(channel_type::teams, config, m)).at("attachments").at(0).at("content").as_object();
  EXPECT_FALSE(card.contains("actions"));
  EXPECT_EQ(card.at("body").as_array().size(), 2u);
}

TEST(message, telegram) {
  const auto r = request(channel_type::telegram, R"({"bot_token":"123:AAF-x","chat_id":-100200})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.telegram.org/bot123:AAF-x/sendMessage");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}}));
  EXPECT_EQ(body_of(r), (json::object{{"chat_id", "-100200"},
                                      {"text", fired().title + "\n\n" + fired().text},
                                      {"disable_web_page_preview", true}}));
  const auto own = request(channel_type::telegram, R"({"bot_token":"1:A","chat_id":"@ops","api_url":"http://tg.local:8081/"})", fired());
  EXPECT_EQ(own.url, "http://tg.local:8081/bot1:A/sendMessage");
}

TEST(message, pushover_form) {
  auto r = request(channel_type::pushover, R"({"token":"app1","user":"usr1","device":"phone"})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.pushover.net/1/messages.json");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/x-www-form-urlencoded"}}));
  EXPECT_EQ(r.body,
            "token=app1&user=usr1"
            "&title=%5Berror%5D%20web%20on%20host-1%20stopped%20%28exit%20code%20137%29"
            "&message=Container%20web%20stopped.%0ASee%20https%3A%2F%2Fdockmon.example%2Falerts%2Fa1%3Fx%3D1%26y%3D2"
            "&priority=1&url=https%3A%2F%2Fdockmon.example%2Falerts%2Fa1&url_title=Open%20alert&device=phone");

  const auto priority = [](std::string event, std::string severity) {
    auto m = fired();
    m.event = std::move(event);
    m.severity = std::move(severity);
    m.link.clear();
    const auto body = request(channel_type::pushover, R"({"token":"t","user":"u"})", m).body;
    EXPECT_EQ(body.find("url="), std::string::npos) << "no link, no url";
    EXPECT_EQ(body.find("device="), std::string::npos);
    const auto at = body.find("&priority=");
    return body.substr(at + 10, body.find('&', at + 1) - at - 10);
  };
  EXPECT_EQ(priority("fired", "info"), "-1");
  EXPECT_EQ(priority("fired", "warning"), "0");
  EXPECT_EQ(priority("fired", "error"), "1");
  EXPECT_EQ(priority("fired", "critical"), "1");
  EXPECT_EQ(priority("resolved", "critical"), "0");
  EXPECT_EQ(priority("test", "info"), "0");
}

TEST(message, gotify) {
  auto r = request(channel_type::gotify, R"({"url":"https://gotify.example/sub/","token":"Atok","verify_tls":false})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://gotify.example/sub/message");
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "application/json"}, {"X-Gotify-Key", "Atok"}}));
  EXPECT_FALSE(r.verify_tls);
  EXPECT_EQ(body_of(r), obj(R"json({"title":"[error] web on host-1 stopped (exit code 137)",
      "message":"Container web stopped.\nSee https://dockmon.example/alerts/a1?x=1&y=2","priority":8,
      "extras":{"client::notification":{"click":{"url":"https://dockmon.example/alerts/a1"}}}})json"));

  const auto priority = [](std::string event, std::string severity) {
    auto m = fired();
    m.event = std::move(event);
    m.severity = std::move(severity);
    m.link.clear();
    const auto body = body_of(request(channel_type::gotify, R"({"url":"https://g.example","token":"t"})", m));
    EXPECT_FALSE(body.contains("extras"));
    return body.at("priority").as_int64();
  };
  EXPECT_EQ(priority("fired", "info"), 2);
  EXPECT_EQ(priority("fired", "warning"), 5);
  EXPECT_EQ(priority("fired", "error"), 8);
  EXPECT_EQ(priority("fired", "critical"), 10);
  EXPECT_EQ(priority("resolved", "critical"), 2);
  EXPECT_EQ(priority("test", "critical"), 2);
}

TEST(message, ntfy) {
  auto r = request(channel_type::ntfy, R"({"url":"https://ntfy.example/","topic":"ops","token":"tk_1"})", fired());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://ntfy.example/ops");
  EXPECT_TRUE(r.verify_tls);
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "text/plain; charset=utf-8"},
                                    {"Title", "[error] web on host-1 stopped (exit code 137)"},
                                    {"Priority", "4"},
                                    {"Tags", "rotating_light"},
                                    {"Click", "https://dockmon.example/alerts/a1"},
                                    {"Authorization", "Bearer tk_1"}}));
  EXPECT_EQ(r.body, fired().text);

  auto m = fired();
  m.title = "Caf\xc3\xa9 \xe2\x98\x95 down";
  m.link.clear();
  r = request(channel_type::ntfy, R"({"topic":"ops","username":"alice","password":"s3cret pass","verify_tls":false})", m);
  EXPECT_EQ(r.url, "https://ntfy.sh/ops");
  EXPECT_FALSE(r.verify_tls);
  EXPECT_EQ(r.headers, (header_list{{"Content-Type", "text/plain; charset=utf-8"},
                                    {"Title", "=?UTF-8?B?Q2Fmw6kg4piVIGRvd24=?="},
                                    {"Priority", "4"},
                                    {"Tags", "rotating_light"},
                                    {"Authorization", "Basic YWxpY2U6czNjcmV0IHBhc3M="}}));

  m.title = "web\r\nX-Injected: 1";
  r = request(channel_type::ntfy, R"({"topic":"ops"})", m);
  EXPECT_EQ(r.headers.at(1), (std::pair<std::string, std::string>{"Title", "web X-Injected: 1"}));
  EXPECT_EQ(r.headers.size(), 4u) << "no Click without a link, no Authorization without a token";

  m.title = std::string(38, 'a') + "\xc3\xa9" + "b";  // the 39th byte starts a two-byte character
  r = request(channel_type::ntfy, R"({"topic":"ops"})", m);
  EXPECT_EQ(r.headers.at(1).second, "=?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?= =?UTF-8?B?w6li?=")
      << "words of at most 39 bytes, never splitting a character";

  const auto priority_and_tags = [](std::string event, std::string severity) {
    auto c = fired();
    c.event = std::move(event);
    c.severity = std::move(severity);
    const auto h = request(channel_type::ntfy, R"({"topic":"ops"})", c).headers;
    return h.at(2).second + " " + h.at(3).second;
  };
  EXPECT_EQ(priority_and_tags("fired", "info"), "3 warning");
  EXPECT_EQ(priority_and_tags("fired", "warning"), "3 warning");
  EXPECT_EQ(priority_and_tags("fired", "error"), "4 rotating_light");
  EXPECT_EQ(priority_and_tags("fired", "critical"), "5 rotating_light");
  EXPECT_EQ(priority_and_tags("resolved", "critical"), "3 white_check_mark");
  EXPECT_EQ(priority_and_tags("test", "info"), "3 test_tube");
}

TEST(message, smtp_mail) {
  const auto config = settings(channel_type::smtp, R"({"host":"mail.example","username":"bot","password":"pw",
      "from":"dockmon@example.com","to":"ops@example.com, oncall@example.com"})");
  auto m = fired();
  m.title = "web\r\nBcc: evil@x.org";
  auto d = render(channel_type::smtp, config, m, "id-1@dockmon", "Wed, 01 May 2024 12:00:00 +0000");
  ASSERT_TRUE(std::holds_alternative<mail>(d));
  const auto& e = std::get<mail>(d);
  EXPECT_EQ(e.url, "smtp://mail.example:587");
  EXPECT_TRUE(e.starttls);
  EXPECT_TRUE(e.verify_tls);
  EXPECT_EQ(e.username, "bot");
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.from, "dockmon@example.com");
  EXPECT_EQ(e.to, (std::vector<std::string>{"ops@example.com", "oncall@example.com"}));
  EXPECT_EQ(e.data,
            "From: dockmon@example.com\r\n"
            "To: ops@example.com, oncall@example.com\r\n"
            "Subject: web Bcc: evil@x.org\r\n"
            "Date: Wed, 01 May 2024 12:00:00 +0000\r\n"
            "Message-ID: <id-1@dockmon>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Container web stopped.\r\n"
            "See https://dockmon.example/alerts/a1?x=1&y=2\r\n");

  m.title = "[error] w\xc3\xa9" "b stopped";
  m.text = "line one\r\n.dot line\n\nlast\n";
  const auto tls = settings(channel_type::smtp, R"({"host":"10.0.0.9","security":"tls","verify_tls":false,
      "from":"a@x.org","to":["b@x.org"]})");
  d = render(channel_type::smtp, tls, m, "<given@host>", "date");
  const auto& s = std::get<mail>(d);
  EXPECT_EQ(s.url, "smtps://10.0.0.9:465");
  EXPECT_FALSE(s.starttls);
  EXPECT_FALSE(s.verify_tls);
  EXPECT_EQ(s.username, "");
  const auto blank = s.data.find("\r\n\r\n");
  EXPECT_NE(s.data.find("\r\nSubject: =?UTF-8?B?W2Vycm9yXSB3w6liIHN0b3BwZWQ=?=\r\n"), std::string::npos) << s.data;
  EXPECT_NE(s.data.find("\r\nMessage-ID: <given@host>\r\n"), std::string::npos) << "an id already in <> is kept";
  EXPECT_EQ(s.data.substr(blank + 4), "line one\r\n.dot line\r\n\r\nlast\r\n")
      << "every line ends in CRLF; dot-stuffing is left to libcurl";

  m.title = "\xc3\x9c" "berwachung: Container ist gestoppt \xe2\x80\x93 Grund: Speicher voll, Neustart l\xc3\xa4uft";
  json::array many;
  for (int i = 0; i < 20; ++i) many.emplace_back("recipient-" + std::to_string(i) + "@example.com");
  auto wide = tls;
  wide["to"] = many;
  const auto long_mail = std::get<mail>(render(channel_type::smtp, wide, m, "i", "d"));
  const auto headers = long_mail.data.substr(0, long_mail.data.find("\r\n\r\n") + 2);
  EXPECT_NE(headers.find("\r\nSubject: =?UTF-8?B?w5xiZXJ3YWNodW5nOiBDb250YWluZXIgaXN0IGdlc3RvcHB0IA==?=\r\n"
                         " =?UTF-8?B?4oCTIEdydW5kOiBTcGVpY2hlciB2b2xsLCBOZXVzdGFydCBsw6R1?=\r\n =?UTF-8?B?ZnQ=?=\r\nDate: d\r\n"),
            std::string::npos)
      << headers;
  EXPECT_NE(headers.find("To: recipient-0@example.com, recipient-1@example.com, recipient-2@example.com,\r\n"
                         " recipient-3@example.com,"),
            std::string::npos)
      << headers;
  for (std::size_t at = 0, end = 0; at < headers.size(); at = end + 2) {
    end = headers.find("\r\n", at);
    EXPECT_LE(end - at, 78u) << "a header line longer than RFC 5322 advises: " << headers.substr(at, end - at);
  }

  const auto none = settings(channel_type::smtp, R"({"host":"mx","security":"none","from":"a@x.org","to":["b@x.org"]})");
  const auto plain = std::get<mail>(render(channel_type::smtp, none, fired(), "i", "d"));
  EXPECT_EQ(plain.url, "smtp://mx:25");
  EXPECT_FALSE(plain.starttls);
}

TEST(notify_message, a_rules_template_is_filled_with_the_messages_fields_as_they_are) {
  const auto m = fired();
  EXPECT_EQ(fill_template("{{container_name}} on {{host_name}}: {{severity}} \"{{nope}}\" {{link", m),
            m.container_name + " on " + m.host_name + ": " + m.severity + " \"{{nope}}\" {{link")
      << "no JSON escaping, unknown names and an open brace kept as written";
}
