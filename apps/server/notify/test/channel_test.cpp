// Channel settings: checks and defaults per kind, secrets masked and kept across an update, shoutrrr URLs.
#include "notify/channel.hpp"

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

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

// The checked settings, failing the test when the check refuses them.
json::object checked(channel_type type, std::string_view config) {
  auto result = check_config(type, obj(config));
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "refused: " << *error;
    return {};
  }
  return std::get<json::object>(result);
}

// The check's error, or "accepted" when it takes the settings.
std::string error_of(channel_type type, std::string_view config) {
  auto result = check_config(type, obj(config));
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  return "accepted";
}

typed_config shoutrrr(std::string_view url) {
  auto result = parse_shoutrrr(url);
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << url << " refused: " << *error;
    return {channel_type::webhook, {}};
  }
  return std::get<typed_config>(result);
}

std::string shoutrrr_error(std::string_view url) {
  auto result = parse_shoutrrr(url);
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  return "accepted as " + std::string(type_name(std::get<typed_config>(result).type));
}

}  // namespace

TEST(channel, type_names_go_both_ways) {
  for (auto t : {channel_type::webhook, channel_type::slack, channel_type::discord, channel_type::teams,
                 channel_type::google_chat, channel_type::telegram, channel_type::pushover, channel_type::gotify,
                 channel_type::ntfy, channel_type::smtp})
    EXPECT_EQ(parse_type(type_name(t)), t) << type_name(t);
  EXPECT_EQ(type_name(channel_type::google_chat), "google_chat");
  EXPECT_EQ(parse_type("email"), std::nullopt);
  EXPECT_EQ(parse_type("Slack"), std::nullopt);
}

TEST(channel, defaults_are_filled) {
  EXPECT_EQ(checked(channel_type::webhook, R"({"url":"https://hooks.example/x"})"),
            obj(R"({"url":"https://hooks.example/x","method":"POST","headers":{},"body_template":"","verify_tls":true})"));
  EXPECT_EQ(checked(channel_type::webhook, R"({"url":"http://10.0.0.1:8080/x","method":"put","verify_tls":false})"),
            obj(R"({"url":"http://10.0.0.1:8080/x","method":"PUT","headers":{},"body_template":"","verify_tls":false})"));
  EXPECT_EQ(checked(channel_type::slack, R"({"webhook_url":"https://hooks.slack.com/services/A/B/C"})"),
            obj(R"({"webhook_url":"https://hooks.slack.com/services/A/B/C"})"));
  EXPECT_EQ(checked(channel_type::telegram, R"({"bot_token":"123:AA-b_c","chat_id":-1001234})"),
            obj(R"({"bot_token":"123:AA-b_c","chat_id":"-1001234","api_url":"https://api.telegram.org"})"));
  EXPECT_EQ(checked(channel_type::telegram, R"({"bot_token":"123:AA","chat_id":"@my_channel"})").at("chat_id"), "@my_channel");
  EXPECT_EQ(checked(channel_type::pushover, R"({"token":"t","user":"u"})"),
            obj(R"({"token":"t","user":"u","api_url":"https://api.pushover.net"})"));
  EXPECT_EQ(checked(channel_type::pushover, R"({"token":"t","user":"u","device":"phone"})").at("device"), "phone");
  EXPECT_EQ(checked(channel_type::gotify, R"({"url":"https://gotify.example","token":"A1"})"),
            obj(R"({"url":"https://gotify.example","token":"A1","verify_tls":true})"));
  EXPECT_EQ(checked(channel_type::ntfy, R"({"topic":"alerts"})"),
            obj(R"({"url":"https://ntfy.sh","topic":"alerts","verify_tls":true})"));
  EXPECT_EQ(checked(channel_type::ntfy, R"({"topic":"alerts","token":""})"),
            obj(R"({"url":"https://ntfy.sh","topic":"alerts","verify_tls":true})"))
      << "an empty optional field means not set";
  EXPECT_EQ(checked(channel_type::smtp, R"({"host":"mail.example","from":"a@example.com","to":"b@example.com, c@example.com"})"),
            obj(R"({"host":"mail.example","port":587,"security":"starttls","from":"a@example.com",
                    "to":["b@example.com","c@example.com"],"verify_tls":true})"));
  EXPECT_EQ(checked(channel_type::smtp, R"({"host":"10.0.0.2","security":"tls","from":"a@x.org","to":["b@x.org"]})").at("port"), 465);
  EXPECT_EQ(checked(channel_type::smtp, R"({"host":"mx","security":"none","from":"a@x.org","to":["b@x.org"]})").at("port"), 25);
  EXPECT_EQ(checked(channel_type::smtp, R"({"host":"mx","port":2525,"from":"a@x.org","to":["b@x.org"]})").at("port"), 2525);
}

TEST(channel, a_null_field_is_not_set) {
  EXPECT_EQ(checked(channel_type::ntfy, R"({"topic":"alerts","url":null,"token":null})"),
            obj(R"({"url":"https://ntfy.sh","topic":"alerts","verify_tls":true})"));
}

TEST(channel, missing_required_fields_are_named) {
  EXPECT_EQ(error_of(channel_type::webhook, "{}"), "url is required: the http:// or https:// URL to call");
  EXPECT_EQ(error_of(channel_type::slack, "{}"), "webhook_url is required: the https:// webhook URL Slack gave for the channel");
  EXPECT_EQ(error_of(channel_type::discord, R"({"webhook_url":""})"),
            "webhook_url is required: the https:// webhook URL Discord gave for the channel");
  EXPECT_EQ(error_of(channel_type::teams, "{}"),
            "webhook_url is required: the https:// webhook URL the Teams workflow gave for the channel");
  EXPECT_EQ(error_of(channel_type::google_chat, "{}"),
            "webhook_url is required: the https:// webhook URL Google Chat gave for the channel");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"chat_id":"1"})"), "bot_token is required: the token BotFather gave (123456789:AA...)");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"bot_token":"1:A"})"),
            "chat_id is required: the chat's number or a public channel's @username");
  EXPECT_EQ(error_of(channel_type::pushover, R"({"token":"t"})"), "user is required: the user or group key");
  EXPECT_EQ(error_of(channel_type::gotify, R"({"url":"https://g.example"})"), "token is required: an application token from Gotify");
  EXPECT_EQ(error_of(channel_type::ntfy, "{}"), "topic is required: the topic to publish to (letters, digits, _ and -, at most 64)");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","to":"b@x.org"})"), "from is required: the sender's e-mail address");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","from":"a@x.org"})"), "to is required: the e-mail addresses to send to");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"from":"a@x.org","to":"b@x.org"})"), "host is required: the mail server's name or IPv4 address");
}

TEST(channel, unknown_fields_are_refused) {
  EXPECT_EQ(error_of(channel_type::slack, R"({"webhook_url":"https://h.example/x","channel":"#ops"})"),
            "unknown field channel; a channel of type slack takes webhook_url");
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"topic":"a","priority":5})"),
            "unknown field priority; a channel of type ntfy takes url, topic, token, username, password, verify_tls");
}

TEST(channel, urls_must_be_http_with_a_host) {
  const auto slack = [](std::string url) {
    json::object c;
    c["webhook_url"] = url;
    auto result = check_config(channel_type::slack, c);
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "accepted";
  };
  EXPECT_EQ(slack("https://hooks.slack.com/services/A/B/C"), "accepted");
  EXPECT_EQ(slack("HTTP://user:pw@host:8080"), "accepted");
  EXPECT_EQ(slack("ftp://hooks.example/x"), "webhook_url must start with http:// or https://");
  EXPECT_EQ(slack("hooks.example/x"), "webhook_url must start with http:// or https://");
  EXPECT_EQ(slack("https:///x"), "webhook_url must name a host (https://host/...)");
  EXPECT_EQ(slack("https://user@:80/x"), "webhook_url must name a host (https://host/...)");
  EXPECT_EQ(slack("https://hooks.example/a b"), "webhook_url must not contain spaces or control characters");
  EXPECT_EQ(slack("https://hooks.example/a\nb"), "webhook_url must not contain spaces or control characters");
  EXPECT_EQ(slack("https://hooks.example/" + std::string(2048, 'a')), "webhook_url must be at most 2048 characters");
  EXPECT_EQ(error_of(channel_type::slack, R"({"webhook_url":42})"),
            "webhook_url must be text: the https:// webhook URL Slack gave for the channel");
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"url":"ntfy.sh","topic":"a"})"), "url must start with http:// or https://");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"bot_token":"1:A","chat_id":1,"api_url":""})"),
            "api_url must not be empty: the Bot API's base URL");
}

TEST(channel, field_rules) {
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"topic":"my topic"})"), "topic must be 1 to 64 letters, digits, _ and -");
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"topic":"a/b"})"), "topic must be 1 to 64 letters, digits, _ and -");
  EXPECT_EQ(error_of(channel_type::ntfy, std::string(R"({"topic":")") + std::string(65, 'a') + R"("})"),
            "topic must be 1 to 64 letters, digits, _ and -");
  EXPECT_EQ(error_of(channel_type::ntfy, std::string(R"({"topic":")") + std::string(64, 'a') + R"("})"), "accepted");
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"topic":"a","password":"p"})"), "username and password go together: give both, or neither");
  EXPECT_EQ(error_of(channel_type::ntfy, R"({"topic":"a","username":"u","password":"p","token":"tk"})"),
            "token and username/password are two ways to sign in: give one of them");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","method":"GET"})"), "method must be POST, PUT or PATCH");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","verify_tls":"no"})"), "verify_tls must be true or false");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"bot_token":"abc","chat_id":1})"),
            "bot_token must look like 123456789:AAF... (digits, a colon, then letters, digits, _ and -)");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"bot_token":"1:A","chat_id":"general"})"),
            "chat_id must be a chat's number (e.g. -1001234567890) or a public channel's @username");
  EXPECT_EQ(error_of(channel_type::telegram, R"({"bot_token":"1:A","chat_id":1.5})"),
            "chat_id must be a chat's number (e.g. -1001234567890) or a public channel's @username");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","port":0,"from":"a@x.org","to":"b@x.org"})"),
            "port must be a whole number from 1 to 65535");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","port":65536,"from":"a@x.org","to":"b@x.org"})"),
            "port must be a whole number from 1 to 65535");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","security":"ssl","from":"a@x.org","to":"b@x.org"})"),
            "security must be starttls, tls or none");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx_1","from":"a@x.org","to":"b@x.org"})"),
            "host must be the mail server's name or IPv4 address (letters, digits, . and -)");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","from":"Alice <a@x.org>","to":"b@x.org"})"),
            "from must be an e-mail address (name@domain)");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","from":"a@x.org","to":"b@x.org, c@@x.org"})"),
            "to has \"c@@x.org\", which is not an e-mail address (name@domain)");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","from":"a@x.org","to":["b@x.org\r\nBcc: evil@x.org"]})"),
            "to has \"b@x.org\r\nBcc: evil@x.org\", which is not an e-mail address (name@domain)");
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","from":"a@x.org","to":[]})"),
            "to must be 1 to 20 e-mail addresses (a list, or text separated by commas)");
  json::array many;
  for (int i = 0; i < 21; ++i) many.emplace_back("u" + std::to_string(i) + "@x.org");
  json::object smtp{{"host", "mx"}, {"from", "a@x.org"}, {"to", many}};
  EXPECT_EQ(std::get<std::string>(check_config(channel_type::smtp, smtp)),
            "to must be 1 to 20 e-mail addresses (a list, or text separated by commas)");
  smtp["to"].as_array().pop_back();
  EXPECT_TRUE(std::holds_alternative<json::object>(check_config(channel_type::smtp, smtp)));
  EXPECT_EQ(error_of(channel_type::smtp, R"({"host":"mx","password":"p","from":"a@x.org","to":"b@x.org"})"),
            "password needs a username");
  EXPECT_EQ(error_of(channel_type::pushover, R"({"token":"t\nx","user":"u"})"), "token must not contain control characters");
  EXPECT_EQ(error_of(channel_type::pushover, std::string(R"({"token":")") + std::string(1025, 't') + R"(","user":"u"})"),
            "token must be text of at most 1024 characters");
}

TEST(channel, webhook_headers_are_checked) {
  EXPECT_EQ(checked(channel_type::webhook, R"({"url":"https://h.example","headers":{"X-Api-Key":"k1","Authorization":"Bearer t"}})")
                .at("headers"),
            obj(R"({"X-Api-Key":"k1","Authorization":"Bearer t"})"));
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"X-A":"v\r\nX-Injected: 1"}})"),
            "headers.X-A must not contain line breaks");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"X-A":"v\nw"}})"),
            "headers.X-A must not contain line breaks");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"X A":"v"}})"),
            "headers has a bad name \"X A\": a header name takes letters, digits and -");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"X-A:":"v"}})"),
            "headers has a bad name \"X-A:\": a header name takes letters, digits and -");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"X-A":1}})"),
            "headers.X-A must be text of at most 1024 characters");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":{"Content-Length":"5"}})"),
            "headers must not set Content-Length: the sender sets it");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","headers":["X-A: v"]})"),
            "headers must be an object of at most 50 header names and text values");
}

TEST(channel, webhook_body_templates_are_checked) {
  EXPECT_EQ(error_of(channel_type::webhook,
                     R"({"url":"https://h.example","body_template":"{\"t\":\"{{title}}\",\"x\":\"{{ text }}\",\"a\":[\"{{link}}\"]}"})"),
            "accepted");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","body_template":"{\"t\":{{title}}}"})"),
            "body_template must be JSON once its placeholders are filled (syntax error); a placeholder gives text "
            "without quotes, so write \"{{title}}\"");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","body_template":"{\"t\":\"{{title}}\""})"),
            "body_template must be JSON once its placeholders are filled (incomplete JSON); a placeholder gives text "
            "without quotes, so write \"{{title}}\"");
  EXPECT_EQ(error_of(channel_type::webhook, R"({"url":"https://h.example","body_template":"{\"t\":\"{{message}}\"}"})"),
            "body_template has an unknown placeholder {{message}}; it takes {{event}}, {{title}}, {{text}}, {{severity}}, "
            "{{kind}}, {{alert_id}}, {{rule_id}}, {{rule_name}}, {{host_id}}, {{host_name}}, {{container_id}}, "
            "{{container_name}}, {{fired_at}}, {{resolved_at}}, {{link}}");
}

TEST(channel, secret_fields) {
  EXPECT_TRUE(is_secret_field(channel_type::webhook, "url"));
  EXPECT_TRUE(is_secret_field(channel_type::webhook, "headers"));
  EXPECT_FALSE(is_secret_field(channel_type::webhook, "body_template"));
  EXPECT_TRUE(is_secret_field(channel_type::discord, "webhook_url"));
  EXPECT_TRUE(is_secret_field(channel_type::telegram, "bot_token"));
  EXPECT_FALSE(is_secret_field(channel_type::telegram, "chat_id"));
  EXPECT_TRUE(is_secret_field(channel_type::pushover, "user"));
  EXPECT_FALSE(is_secret_field(channel_type::gotify, "url"));
  EXPECT_TRUE(is_secret_field(channel_type::ntfy, "password"));
  EXPECT_FALSE(is_secret_field(channel_type::ntfy, "username"));
  EXPECT_TRUE(is_secret_field(channel_type::smtp, "password"));
  EXPECT_FALSE(is_secret_field(channel_type::smtp, "from"));
  EXPECT_FALSE(is_secret_field(channel_type::slack, "url")) << "not a slack field";
}

TEST(channel, masked_shows_no_secret) {
  struct sample {
    channel_type type;
    const char* config;
    std::vector<std::string> secrets;
  };
  const sample samples[] = {
      {channel_type::webhook,
       R"({"url":"https://h.example/SECRET-URL","method":"POST","headers":{"X-Key":"SECRET-HEADER","X-Other":"SECRET-2"},
           "body_template":"","verify_tls":true})",
       {"SECRET-URL", "SECRET-HEADER", "SECRET-2"}},
      {channel_type::slack, R"({"webhook_url":"https://hooks.slack.com/services/T0/B0/SECRETX"})", {"SECRETX"}},
      {channel_type::discord, R"({"webhook_url":"https://discord.com/api/webhooks/1/SECRETX"})", {"SECRETX"}},
      {channel_type::teams, R"({"webhook_url":"https://prod.logic.azure.com/workflows/SECRETX"})", {"SECRETX"}},
      {channel_type::google_chat, R"({"webhook_url":"https://chat.googleapis.com/v1/spaces/S/messages?key=SECRETX"})", {"SECRETX"}},
      {channel_type::telegram, R"({"bot_token":"123:SECRETX","chat_id":"42","api_url":"https://api.telegram.org"})", {"SECRETX"}},
      {channel_type::pushover, R"({"token":"SECRET-T","user":"SECRET-U","device":"phone","api_url":"https://api.pushover.net"})",
       {"SECRET-T", "SECRET-U"}},
      {channel_type::gotify, R"({"url":"https://g.example","token":"SECRETX","verify_tls":true})", {"SECRETX"}},
      {channel_type::ntfy, R"({"url":"https://ntfy.sh","topic":"t","token":"SECRET-T","username":"u","password":"SECRET-P"})",
       {"SECRET-T", "SECRET-P"}},
      {channel_type::smtp, R"({"host":"mx","port":587,"security":"starttls","username":"u","password":"SECRETX",
           "from":"a@x.org","to":["b@x.org"],"verify_tls":true})",
       {"SECRETX"}},
  };
  for (const auto& s : samples) {
    const auto config = obj(s.config);
    const auto shown = masked(s.type, config);
    const auto dumped = json::serialize(shown);
    for (const auto& secret : s.secrets) EXPECT_EQ(dumped.find(secret), std::string::npos) << type_name(s.type) << ": " << dumped;
    EXPECT_NE(dumped.find(masked_secret), std::string::npos) << type_name(s.type);
    for (const auto& [key, value] : config) {
      if (is_secret_field(s.type, key)) continue;
      EXPECT_EQ(shown.at(key), value) << type_name(s.type) << "." << key << " is not a secret";
    }
  }
  const auto webhook = masked(channel_type::webhook, obj(R"({"url":"https://h.example","headers":{"X-Key":"k","X-Empty":""}})"));
  EXPECT_EQ(webhook, obj(R"({"url":"********","headers":{"X-Key":"********","X-Empty":""}})"))
      << "header names stay, values are masked, an empty value stays empty";
  EXPECT_EQ(masked(channel_type::ntfy, obj(R"({"topic":"t","token":""})")), obj(R"({"topic":"t","token":""})"));
}

TEST(channel, merged_keeps_a_secret_sent_back_masked) {
  const auto stored = obj(R"({"url":"https://ntfy.example","topic":"t","username":"u","password":"old-pass","verify_tls":true})");
  EXPECT_EQ(merged(channel_type::ntfy, stored, obj(R"({"password":"********","topic":"t2"})")),
            obj(R"({"url":"https://ntfy.example","topic":"t2","username":"u","password":"old-pass","verify_tls":true})"));
  EXPECT_EQ(merged(channel_type::ntfy, stored, obj(R"({"password":"new-pass"})")).at("password"), "new-pass");
  EXPECT_EQ(merged(channel_type::ntfy, stored, obj(R"({"username":null,"password":null})")),
            obj(R"({"url":"https://ntfy.example","topic":"t","verify_tls":true})"));
  EXPECT_EQ(merged(channel_type::ntfy, stored, obj(R"({"username":"********"})")).at("username"), "********")
      << "masked_secret is only special for a secret field";
  EXPECT_EQ(merged(channel_type::ntfy, obj(R"({"topic":"t"})"), obj(R"({"token":"********"})")), obj(R"({"topic":"t"})"))
      << "a masked secret with nothing stored sets nothing";
  // The round trip the API makes: show masked, take it back unchanged, and the stored secrets are still there.
  const auto slack = obj(R"({"webhook_url":"https://hooks.slack.com/services/A/B/C"})");
  EXPECT_EQ(merged(channel_type::slack, slack, masked(channel_type::slack, slack)), slack);
}

TEST(channel, merged_webhook_headers_keep_masked_values) {
  const auto stored = obj(R"({"url":"https://h.example/x","headers":{"X-Key":"k1","X-Gone":"g"},"verify_tls":true})");
  const auto update = obj(R"({"url":"********","headers":{"X-Key":"********","X-New":"n","X-Unknown":"********"}})");
  EXPECT_EQ(merged(channel_type::webhook, stored, update),
            obj(R"({"url":"https://h.example/x","headers":{"X-Key":"k1","X-New":"n"},"verify_tls":true})"))
      << "the update's headers replace the stored set; a masked value is the stored one";
  EXPECT_EQ(merged(channel_type::webhook, stored, obj(R"({"headers":{"X-Key":"k2"}})")).at("headers"), obj(R"({"X-Key":"k2"})"));
  EXPECT_EQ(merged(channel_type::webhook, stored, masked(channel_type::webhook, stored)), stored);
}

TEST(channel, shoutrrr_discord) {
  const auto c = shoutrrr("discord://tok-EN_1@123456789");
  EXPECT_EQ(c.type, channel_type::discord);
  EXPECT_EQ(c.config, obj(R"({"webhook_url":"https://discord.com/api/webhooks/123456789/tok-EN_1"})"));
  EXPECT_EQ(shoutrrr_error("discord://123456789"),
            "a discord URL is discord://TOKEN@WEBHOOKID (from the webhook URL .../webhooks/WEBHOOKID/TOKEN)");
}

TEST(channel, shoutrrr_slack) {
  auto c = shoutrrr("slack://hook:T0AAA-B0BBB-XyZ123@webhook");
  EXPECT_EQ(c.type, channel_type::slack);
  EXPECT_EQ(c.config, obj(R"({"webhook_url":"https://hooks.slack.com/services/T0AAA/B0BBB/XyZ123"})"));
  c = shoutrrr("slack://T0AAA/B0BBB/XyZ123");
  EXPECT_EQ(c.config, obj(R"({"webhook_url":"https://hooks.slack.com/services/T0AAA/B0BBB/XyZ123"})"));
  c = shoutrrr("slack://bot@T0AAA/B0BBB/XyZ123");
  EXPECT_EQ(c.config, obj(R"({"webhook_url":"https://hooks.slack.com/services/T0AAA/B0BBB/XyZ123"})"));
  EXPECT_EQ(shoutrrr_error("slack://xoxb:123-456@C01"),
            "a slack URL is slack://hook:A-B-C@webhook or slack://A/B/C, from the webhook URL "
            "https://hooks.slack.com/services/A/B/C (bot tokens are not supported)");
}

TEST(channel, shoutrrr_telegram) {
  const auto c = shoutrrr("telegram://123456:AAF-xyz_1@telegram?chats=-100123");
  EXPECT_EQ(c.type, channel_type::telegram);
  EXPECT_EQ(c.config, obj(R"({"bot_token":"123456:AAF-xyz_1","chat_id":"-100123","api_url":"https://api.telegram.org"})"));
  EXPECT_EQ(shoutrrr("telegram://1:A@telegram/?Chats=@news").config.at("chat_id"), "@news") << "parameters ignore case";
  EXPECT_EQ(shoutrrr_error("telegram://1:A@telegram?chats=1,2"),
            "a telegram URL here takes one chat; make one channel per chat (chats=1,2)");
  EXPECT_EQ(shoutrrr_error("telegram://1:A@telegram"), "a telegram URL needs the chat: telegram://BOTTOKEN@telegram?chats=CHAT");
}

TEST(channel, shoutrrr_ntfy) {
  auto c = shoutrrr("ntfy://ntfy.example/alerts");
  EXPECT_EQ(c.type, channel_type::ntfy);
  EXPECT_EQ(c.config, obj(R"({"url":"https://ntfy.example","topic":"alerts","verify_tls":true})"));
  c = shoutrrr("ntfy://al%40ice:p%3Ass@ntfy.example:8080/alerts?scheme=http");
  EXPECT_EQ(c.config,
            obj(R"({"url":"http://ntfy.example:8080","topic":"alerts","username":"al@ice","password":"p:ss","verify_tls":true})"));
  c = shoutrrr("ntfy://:tk_abc123@ntfy.example/alerts");
  EXPECT_EQ(c.config, obj(R"({"url":"https://ntfy.example","topic":"alerts","token":"tk_abc123","verify_tls":true})"));
  EXPECT_EQ(shoutrrr_error("ntfy://ntfy.example/alerts?scheme=ftp"), "an ntfy URL's scheme parameter must be http or https");
  EXPECT_EQ(shoutrrr_error("ntfy://ntfy.example/a/b"), "topic must be 1 to 64 letters, digits, _ and -") << "checked as settings";
}

TEST(channel, shoutrrr_gotify) {
  auto c = shoutrrr("gotify://gotify.example/Aabc.123");
  EXPECT_EQ(c.type, channel_type::gotify);
  EXPECT_EQ(c.config, obj(R"({"url":"https://gotify.example","token":"Aabc.123","verify_tls":true})"));
  c = shoutrrr("gotify://gotify.example:8443/sub/path/Atoken?DisableTLS=yes");
  EXPECT_EQ(c.config, obj(R"({"url":"http://gotify.example:8443/sub/path","token":"Atoken","verify_tls":true})"));
  EXPECT_EQ(shoutrrr_error("gotify://gotify.example"), "a gotify URL is gotify://HOST[:PORT][/PATH]/TOKEN");
}

TEST(channel, shoutrrr_pushover) {
  auto c = shoutrrr("pushover://shoutrrr:apptoken1@userkey1/?devices=phone,tablet");
  EXPECT_EQ(c.type, channel_type::pushover);
  EXPECT_EQ(c.config, obj(R"({"token":"apptoken1","user":"userkey1","device":"phone","api_url":"https://api.pushover.net"})"));
  c = shoutrrr("pushover://shoutrrr:apptoken1@userkey1");
  EXPECT_EQ(c.config, obj(R"({"token":"apptoken1","user":"userkey1","api_url":"https://api.pushover.net"})"));
}

TEST(channel, shoutrrr_smtp) {
  auto c = shoutrrr("smtp://me%40x.org:p%26ss%20w@mail.x.org:2525/?from=me@x.org&to=a@x.org,b@x.org&encryption=ImplicitTLS");
  EXPECT_EQ(c.type, channel_type::smtp);
  EXPECT_EQ(c.config, obj(R"({"host":"mail.x.org","port":2525,"security":"tls","username":"me@x.org","password":"p&ss w",
                               "from":"me@x.org","to":["a@x.org","b@x.org"],"verify_tls":true})"));
  c = shoutrrr("smtp://mail.x.org/?from=me@x.org&to=a@x.org");
  EXPECT_EQ(c.config, obj(R"({"host":"mail.x.org","port":587,"security":"starttls","from":"me@x.org","to":["a@x.org"],"verify_tls":true})"));
  EXPECT_EQ(shoutrrr("smtp://mail.x.org/?from=me@x.org&to=a@x.org&Encryption=ExplicitTLS&UseStartTLS=no").config.at("security"), "none");
  EXPECT_EQ(shoutrrr("smtp://mail.x.org/?from=me@x.org&to=a@x.org&encryption=Auto").config.at("security"), "starttls");
  EXPECT_EQ(shoutrrr("smtp://mail.x.org/?from=me@x.org&to=a@x.org&encryption=None").config.at("port"), 25);
  EXPECT_EQ(shoutrrr_error("smtp://mail.x.org/?from=me@x.org&to=a@x.org&encryption=SSL"),
            "an smtp URL's encryption parameter must be None, ExplicitTLS, ImplicitTLS or Auto");
  EXPECT_EQ(shoutrrr_error("smtp://mail.x.org/?to=a@x.org"), "from is required: the sender's e-mail address");
}

TEST(channel, shoutrrr_google_chat) {
  const auto c = shoutrrr("googlechat://chat.googleapis.com/v1/spaces/AAAA/messages?key=K-1&token=T%3D1");
  EXPECT_EQ(c.type, channel_type::google_chat);
  EXPECT_EQ(c.config, obj(R"({"webhook_url":"https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K-1&token=T%3D1"})"));
  EXPECT_EQ(shoutrrr_error("googlechat://chat.googleapis.com/v1/spaces/AAAA/messages?key=K"),
            "a googlechat URL is googlechat://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN");
}

TEST(channel, shoutrrr_generic) {
  auto c = shoutrrr("generic://hooks.example:8443/api/notify?template=json&x=1&DisableTLS=no&ContentType=text/plain&_title=t");
  EXPECT_EQ(c.type, channel_type::webhook);
  EXPECT_EQ(c.config.at("url"), "https://hooks.example:8443/api/notify?x=1&title=t");
  c = shoutrrr("generic://hooks.example/api?disabletls=yes&@xApiKey=k1&requestmethod=PUT");
  EXPECT_EQ(c.config, obj(R"({"url":"http://hooks.example/api","method":"PUT","headers":{"X-Api-Key":"k1"},
                               "body_template":"","verify_tls":true})"));
  c = shoutrrr("generic+https://hooks.example/api/v1/post?a=b%20c");
  EXPECT_EQ(c.config.at("url"), "https://hooks.example/api/v1/post?a=b%20c");
  c = shoutrrr("generic+http://10.0.0.5:8080/hook");
  EXPECT_EQ(c.config.at("url"), "http://10.0.0.5:8080/hook");
}

TEST(channel, shoutrrr_bad_urls) {
  EXPECT_EQ(shoutrrr_error("teams://group@tenant/altId/groupOwner?host=x.webhook.office.com"),
            "teams:// URLs are for Office 365 connectors, which Microsoft retired; use type teams with the workflow's "
            "webhook_url");
  EXPECT_EQ(shoutrrr_error("matrix://user:pw@host"),
            "the scheme matrix:// is not supported; supported are discord, slack, telegram, ntfy, gotify, pushover, smtp, "
            "googlechat, generic, generic+https and generic+http");
  EXPECT_EQ(shoutrrr_error("https://hooks.example"),
            "the scheme https:// is not supported; supported are discord, slack, telegram, ntfy, gotify, pushover, smtp, "
            "googlechat, generic, generic+https and generic+http");
  EXPECT_EQ(shoutrrr_error("not a url"), "a notification URL looks like service://..., e.g. discord://token@id");
  EXPECT_EQ(shoutrrr_error("ntfy://host:port/t"), "the URL's port \"port\" is not a number");
  EXPECT_EQ(shoutrrr_error("ntfy://us%zzer:pw@host/t"), "the URL's user or password has a bad % escape");
  EXPECT_EQ(shoutrrr_error("generic://hooks.example/a b"), "url must not contain spaces or control characters");
}
