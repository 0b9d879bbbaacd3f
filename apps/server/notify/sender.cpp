// libcurl's easy interface, one handle per attempt: attempts are few (one per alert change and channel),
// and a fresh handle carries nothing of one channel's settings into another's request.
#include "notify/sender.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>

namespace dockmon::server::notify {

namespace {

constexpr std::size_t longest_answer_kept = 2048;  // of a service's answer, for the error shown

struct handle_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct list_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using curl_handle = std::unique_ptr<CURL, handle_deleter>;
using curl_list = std::unique_ptr<curl_slist, list_deleter>;

struct exchange {
  std::string answer;
  std::string retry_after;
  std::string_view upload;  // SMTP: the message still to send
};

std::size_t keep_answer(char* data, std::size_t size, std::size_t count, void* user) {
  auto& ex = *static_cast<exchange*>(user);
  const auto bytes = size * count;
  ex.answer.append(data, std::min(bytes, longest_answer_kept - std::min(longest_answer_kept, ex.answer.size())));
  return bytes;
}

std::size_t keep_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& ex = *static_cast<exchange*>(user);
  const std::string_view line(data, size * count);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    std::string lower(line.substr(0, name.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == name) {
      auto value = line.substr(name.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
      ex.retry_after = std::string(value.substr(0, 64));
    }
  }
  return size * count;
}

std::size_t give_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& ex = *static_cast<exchange*>(user);
  const auto n = std::min(size * count, ex.upload.size());
  std::copy_n(ex.upload.data(), n, buffer);
  ex.upload.remove_prefix(n);
  return n;
}

// What a service answered, on one line and short: enough to see "invalid token" in the UI.
std::string answer_text(const std::string& answer) {
  std::string text;
  for (char c : answer.substr(0, 200)) text += (static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return text;
}

// Network trouble is worth another try; a setting that cannot work is not.
bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

send_result failed(CURLcode code) {
  return {transient(code) ? send_result::outcome::retry : send_result::outcome::give_up, curl_easy_strerror(code), {}};
}

void common_options(CURL* c, exchange& ex, bool verify_tls, std::chrono::seconds timeout) {
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<std::int64_t>(timeout.count(), 10)));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
}

send_result send_http(const http_request& r, std::chrono::seconds timeout) {
  curl_handle c(curl_easy_init());
  if (!c) return {send_result::outcome::retry, "cannot make a request (out of memory)", {}};
  exchange ex;
  common_options(c.get(), ex, r.verify_tls, timeout);
  curl_easy_setopt(c.get(), CURLOPT_URL, r.url.c_str());
  // Only the web: a channel's URL never reaches a file, a mail server or anything else curl speaks, and
  // a redirect is not followed to wherever it points.
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, r.method.c_str());
  curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, r.body.c_str());
  curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "dockmon-server (notifications)");
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, keep_header);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &ex);
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : r.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  curl_list header_list(headers);
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers);
  if (const auto code = curl_easy_perform(c.get()); code != CURLE_OK) return failed(code);

  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return {send_result::outcome::sent, {}, {}};
  send_result result;
  result.error = "HTTP " + std::to_string(status);
  if (const auto text = answer_text(ex.answer); !text.empty()) result.error += ": " + text;
  // Busy or broken for now: 408, 425, 429 and 5xx; the rest (a wrong URL, a revoked token) stays wrong.
  const bool again = status == 408 || status == 425 || status == 429 || status >= 500;
  result.what = again ? send_result::outcome::retry : send_result::outcome::give_up;
  if (again) result.retry_after = parse_retry_after(ex.retry_after, std::chrono::system_clock::now());
  return result;
}

send_result send_mail(const mail& m, std::chrono::seconds timeout) {
  curl_handle c(curl_easy_init());
  if (!c) return {send_result::outcome::retry, "cannot make a request (out of memory)", {}};
  exchange ex;
  ex.upload = m.data;
  common_options(c.get(), ex, m.verify_tls, timeout);
  curl_easy_setopt(c.get(), CURLOPT_URL, m.url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // STARTTLS asked for is STARTTLS required: never fall back to sending the password in the clear.
  curl_easy_setopt(c.get(), CURLOPT_USE_SSL, m.starttls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  if (!m.username.empty()) {
    curl_easy_setopt(c.get(), CURLOPT_USERNAME, m.username.c_str());
    curl_easy_setopt(c.get(), CURLOPT_PASSWORD, m.password.c_str());
  }
  curl_easy_setopt(c.get(), CURLOPT_MAIL_FROM, ("<" + m.from + ">").c_str());
  curl_slist* to = nullptr;
  for (const auto& address : m.to) to = curl_slist_append(to, ("<" + address + ">").c_str());
  curl_list to_list(to);
  curl_easy_setopt(c.get(), CURLOPT_MAIL_RCPT, to);
  curl_easy_setopt(c.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c.get(), CURLOPT_READFUNCTION, give_upload);
  curl_easy_setopt(c.get(), CURLOPT_READDATA, &ex);
  curl_easy_setopt(c.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(m.data.size()));
  const auto code = curl_easy_perform(c.get());
  if (code == CURLE_OK) return {send_result::outcome::sent, {}, {}};
  long reply = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &reply);
  auto result = failed(code);
  if (reply > 0) {
    result.error += " (SMTP " + std::to_string(reply) + ")";
    // 4xx is the mail server's "not now"; 5xx its "never".
    result.what = reply >= 400 && reply < 500 ? send_result::outcome::retry : send_result::outcome::give_up;
  }
  return result;
}

}  // namespace

void init_sender() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

send_result send(const delivery& d, std::chrono::seconds timeout) {
  if (const auto* request = std::get_if<http_request>(&d)) return send_http(*request, timeout);
  return send_mail(std::get<mail>(d), timeout);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc{} && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* parsed = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (parsed == nullptr || *parsed != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
  return std::chrono::duration_cast<std::chrono::seconds>(std::max(at - now, std::chrono::system_clock::duration::zero()));
}

}  // namespace dockmon::server::notify
