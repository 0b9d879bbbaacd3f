// The outbox's one loop on the I/O thread: it reads what is due, hands each send to the notification
// pool (curl blocks) and records each outcome, so a row is only ever in one attempt at a time.
#include "notify/outbox.hpp"

#include "server_context.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/time.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace dockmon::server::notify {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t most_in_flight = 4;    // sends at once: a dead service holds one slot, not the queue
constexpr auto send_timeout = 15s;
constexpr auto idle_poll = 5s;               // besides being woken: a retry's time coming round

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys_clock::now().time_since_epoch()).count();
}

// The e-mail's Date header (RFC 5322) and a Message-ID that is unique per attempt's row.
std::string mail_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return text;
}

std::string message_id(const std::string& unique) {
  char host[256] = "dockmon";
  ::gethostname(host, sizeof host - 1);
  return "<" + unique + "@" + host + ">";
}

send_result send_to(const opened_channel& channel, const message& m, const std::string& unique) {
  return send(render(channel.type, channel.config, m, message_id(unique), mail_date()), send_timeout);
}

// One outbox row, start to end: its channel, its message, the attempt, the outcome stored.
net::awaitable<void> deliver(server_context& ctx, store::notification_record n) {
  auto find = ctx.with_store([id = n.channel_id](store::store& s) { return s.find_channel(id); });
  const auto stored = co_await std::move(find);
  ++n.attempts;
  send_result result;
  if (!stored) {
    result = {send_result::outcome::give_up, "the channel was deleted", {}};
  } else if (!stored->enabled) {
    result = {send_result::outcome::give_up, "the channel is disabled", {}};
  } else {
    auto opened = open_channel(*stored, ctx.secrets);
    error_code ec;
    const auto body = json::parse(n.message, ec);
    if (auto* error = std::get_if<std::string>(&opened)) {
      result = {send_result::outcome::give_up, *error, {}};
    } else if (ec || !body.is_object()) {
      result = {send_result::outcome::give_up, "the stored message is not JSON", {}};
    } else {
      auto attempt = run_blocking(ctx.notify_pool, [channel = std::get<opened_channel>(std::move(opened)),
                                                    m = message_from_json(body.get_object()), unique = std::to_string(n.id) + "." +
                                                                                                         std::to_string(n.attempts)] {
        return send_to(channel, m, unique);
      });
      result = co_await std::move(attempt);
    }
  }
  settle(n, result, now_ms(), retry_policy{});
  if (n.state == "sent") {
    ++ctx.notifications.sent;
  } else if (n.state == "failed") {
    ++ctx.notifications.failed;
    spdlog::warn("notification {} to channel {} given up after {} attempts: {}", n.id, n.channel_id, n.attempts, n.last_error);
  } else {
    ++ctx.notifications.retried;
    spdlog::info("notification {} to channel {} will be tried again: {}", n.id, n.channel_id, n.last_error);
  }
  try {
    auto record = ctx.with_store([n](store::store& s) { s.record_attempt(n); });
    co_await std::move(record);
  } catch (const std::exception& e) {
    // Still pending in the store: it is tried again, the one case where a message may arrive twice.
    spdlog::error("cannot record notification {}: {}", n.id, e.what());
  }
}

}  // namespace

std::variant<opened_channel, std::string> open_channel(const store::channel_record& channel, const secret_box& secrets) {
  const auto type = parse_type(channel.type);
  if (!type) return "unknown channel type " + channel.type;
  const auto plain = secrets.open(channel.sealed_config);
  if (!plain) return std::string("its settings cannot be unsealed: the data folder's secrets.key is not the one they were sealed with");
  error_code ec;
  const auto config = json::parse(*plain, ec);
  if (ec || !config.is_object()) return std::string("its stored settings are not JSON");
  auto checked = check_config(*type, config.get_object());
  if (auto* error = std::get_if<std::string>(&checked)) return "its settings are not valid: " + *error;
  return opened_channel{*type, std::get<json::object>(std::move(checked))};
}

void settle(store::notification_record& n, const send_result& result, std::int64_t now, const retry_policy& policy) {
  n.last_error = result.error;
  if (result.what == send_result::outcome::sent) {
    n.state = "sent";
    n.sent_at = to_iso8601(sys_clock::time_point(std::chrono::milliseconds(now)));
    return;
  }
  if (result.what == send_result::outcome::give_up || n.attempts >= policy.max_attempts) {
    n.state = "failed";
    return;
  }
  auto delay = policy.first_delay;
  for (int i = 1; i < n.attempts && delay < policy.longest_delay; ++i) delay *= 3;
  delay = std::min(delay, policy.longest_delay);
  // The service said when: that, rather than a guess (at least a second, at most the bound).
  if (result.retry_after) delay = std::clamp(*result.retry_after, std::chrono::seconds(1), policy.longest_retry_after);
  n.next_attempt_ms = now + std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
}

send_result send_test(const store::channel_record& channel, const secret_box& secrets, const std::string& public_url) {
  auto opened = open_channel(channel, secrets);
  if (auto* error = std::get_if<std::string>(&opened)) return {send_result::outcome::give_up, *error, {}};
  message m;
  m.event = "test";
  m.severity = "info";
  m.kind = "test";
  m.title = "DockMon test message for " + channel.name;
  m.text = "If you read this, channel \"" + channel.name + "\" works.";
  m.link = public_url;
  m.fired_at = now_iso8601();
  return send_to(std::get<opened_channel>(opened), m, "test." + random_token(8));
}

net::awaitable<void> run_outbox(server_context& ctx) {
  std::size_t in_flight = 0;
  std::set<std::int64_t> sending;  // rows in an attempt now, not to be picked again until it ends
  const auto ex = co_await net::this_coro::executor;
  for (;;) {
    std::vector<store::notification_record> due;
    std::optional<std::int64_t> next;
    try {
      auto read = ctx.with_store([limit = most_in_flight * 2](store::store& s) {
        return std::pair(s.due_notifications(now_ms(), limit), s.next_notification_due());
      });
      std::tie(due, next) = co_await std::move(read);
    } catch (const std::exception& e) {
      spdlog::error("cannot read the notification outbox: {}", e.what());
    }
    for (auto& n : due) {
      if (in_flight >= most_in_flight || sending.contains(n.id)) continue;
      ++in_flight;
      sending.insert(n.id);
      const auto id = n.id;
      net::co_spawn(ex, deliver(ctx, std::move(n)), [&ctx, &in_flight, &sending, id](std::exception_ptr e) {
        if (e) spdlog::error("notification {}: delivery ended unexpectedly", id);
        --in_flight;
        sending.erase(id);
        ctx.outbox_wake.wake();
      });
    }
    // Until the next retry comes round; a row due now is in a send already, whose end wakes this loop,
    // as new rows do.
    std::chrono::milliseconds wait = idle_poll;
    if (next && *next > now_ms()) wait = std::min(wait, std::chrono::milliseconds(*next - now_ms()));
    co_await ctx.outbox_wake.wait(wait);
  }
}

}  // namespace dockmon::server::notify
