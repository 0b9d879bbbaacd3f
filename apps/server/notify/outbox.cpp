// The outbox's one loop on the I/O thread: it reads what is due, hands each send to the notification
// pool (curl blocks) and records each outcome, so a row is only ever in one attempt at a time.
#include "notify/outbox.hpp"

#include "notify/bursts.hpp"

#include "server_context.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/time.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <ctime>
#include <map>
#include <set>

namespace dockmon::server::notify {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t most_in_flight = 4;    // sends at once: a dead service holds one slot, not the queue
constexpr std::size_t most_due_read = 500;   // rows read at a time: a burst of a whole host's goes as one
constexpr auto send_timeout = 15s;
constexpr std::int64_t claim_ms = 120'000;  // a claimed row is this server's to send; after, anyone's
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

// One message to a channel, start to end: its channel, what the rows say (one row, or a burst about one
// host said together), the attempt, and the outcome stored in every row.
net::awaitable<void> deliver(server_context& ctx, std::vector<store::notification_record> rows) {
  auto find = ctx.with_store([id = rows.front().channel_id](store::store& s) { return s.find_channel(id); });
  const auto stored = co_await std::move(find);
  std::vector<message> parts;
  for (const auto& n : rows) {
    error_code ec;
    const auto body = json::parse(n.message, ec);
    if (!ec && body.is_object()) parts.push_back(message_from_json(body.get_object()));
  }
  send_result result;
  if (!stored) {
    result = {send_result::outcome::give_up, "the channel was deleted", {}};
  } else if (!stored->enabled) {
    result = {send_result::outcome::give_up, "the channel is disabled", {}};
  } else if (parts.size() != rows.size()) {
    result = {send_result::outcome::give_up, "a stored message is not JSON", {}};
  } else {
    auto opened = open_channel(*stored, ctx.secrets);
    if (auto* error = std::get_if<std::string>(&opened)) {
      result = {send_result::outcome::give_up, *error, {}};
    } else {
      auto attempt = run_blocking(ctx.notify_pool, [channel = std::get<opened_channel>(std::move(opened)), m = grouped_message(parts),
                                                    unique = std::to_string(rows.front().id) + "." +
                                                             std::to_string(rows.front().attempts + 1)] {
        return send_to(channel, m, unique);
      });
      result = co_await std::move(attempt);
    }
  }
  const auto now = now_ms();
  for (auto& n : rows) {
    ++n.attempts;
    settle(n, result, now, retry_policy{});
  }
  const auto& n = rows.front();
  const auto what = rows.size() == 1 ? "notification " + std::to_string(n.id) : std::to_string(rows.size()) + " notifications from " + std::to_string(n.id);
  if (n.state == "sent") {
    ctx.notifications.sent += rows.size();
  } else if (n.state == "failed") {
    ctx.notifications.failed += rows.size();
    spdlog::warn("{} to channel {} given up after {} attempts: {}", what, n.channel_id, n.attempts, n.last_error);
  } else {
    ctx.notifications.retried += rows.size();
    spdlog::info("{} to channel {} will be tried again: {}", what, n.channel_id, n.last_error);
  }
  try {
    auto record = ctx.with_store([rows](store::store& s) {
      for (const auto& row : rows) s.record_attempt(row);
    });
    co_await std::move(record);
  } catch (const std::exception& e) {
    // Still pending in the store: tried again, the one case where a message may arrive twice.
    spdlog::error("cannot record {}: {}", what, e.what());
  }
}

// Due rows as messages to send: each row alone, but rows of one channel with the same group key together.
std::vector<std::vector<store::notification_record>> as_messages(std::vector<store::notification_record> due) {
  std::vector<std::vector<store::notification_record>> messages;
  std::map<std::pair<std::string, std::string>, std::size_t> group_at;
  for (auto& n : due) {
    if (!n.group_key.empty()) {
      auto [it, added] = group_at.try_emplace({n.channel_id, n.group_key}, messages.size());
      if (!added) {
        messages[it->second].push_back(std::move(n));
        continue;
      }
    }
    messages.push_back({std::move(n)});
  }
  return messages;
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
  // Whose claims these are: the replica's id, or this run's own (a single server's previous run, killed
  // while sending, claimed rows that are free again now).
  const std::string claimer = ctx.replicas.enabled() ? ctx.replicas.id() : "server-" + random_token(8);
  const auto ex = co_await net::this_coro::executor;
  for (;;) {
    std::vector<store::notification_record> due;
    std::optional<std::int64_t> next;
    try {
      auto read = ctx.with_store([&claimer](store::store& s) {
        const auto now = now_ms();
        return std::pair(s.claim_due_notifications(now, most_due_read, claimer, now + claim_ms), s.next_notification_due());
      });
      std::tie(due, next) = co_await std::move(read);
    } catch (const std::exception& e) {
      spdlog::error("cannot read the notification outbox: {}", e.what());
    }
    std::erase_if(due, [&sending](const auto& n) { return sending.contains(n.id); });
    std::vector<store::notification_record> not_now;  // claimed, but every slot is taken: given back
    for (auto& rows : as_messages(std::move(due))) {
      if (in_flight >= most_in_flight) {
        std::move(rows.begin(), rows.end(), std::back_inserter(not_now));
        continue;
      }
      ++in_flight;
      std::vector<std::int64_t> ids;
      for (const auto& n : rows) ids.push_back(n.id);
      sending.insert(ids.begin(), ids.end());
      net::co_spawn(ex, deliver(ctx, std::move(rows)), [&ctx, &in_flight, &sending, ids](std::exception_ptr e) {
        if (e) spdlog::error("notification {}: delivery ended unexpectedly", ids.front());
        --in_flight;
        for (auto id : ids) sending.erase(id);
        ctx.outbox_wake.wake();
      });
    }
    if (!not_now.empty()) {
      try {
        auto give_back = ctx.with_store([rows = std::move(not_now)](store::store& s) {
          for (const auto& row : rows) s.record_attempt(row);  // as read: due when it was
        });
        co_await std::move(give_back);
      } catch (const std::exception& e) {
        spdlog::warn("cannot give back claimed notifications (they are sent after the claim runs out): {}", e.what());
      }
    }
    // Until the next retry comes round; a row due now is in a send already, whose end wakes this loop,
    // as new rows do.
    std::chrono::milliseconds wait = idle_poll;
    if (next && *next > now_ms()) wait = std::min(wait, std::chrono::milliseconds(*next - now_ms()));
    co_await ctx.outbox_wake.wait(wait);
  }
}

}  // namespace dockmon::server::notify
