// Pulling images with their progress stream, inspecting them, creating containers from a spec.
#include "dockmon/docker/client.hpp"

#include "http_io.hpp"

namespace dockmon::docker {

namespace {

using detail::make_error;

template <class Stream>
net::awaitable<result<void>> pull_on(net::any_io_executor ex, const endpoint& ep, const client_options& options,
                                     ssl::context* tls, std::chrono::milliseconds timeout,
                                     http::request<http::string_body> req,
                                     const std::function<void(const pull_event&)>& on_progress) {
  auto opened = co_await detail::open_stream<Stream>(std::move(ex), ep, options, tls);
  if (!opened) co_return opened.error();
  auto& stream = *opened;
  beast::get_lowest_layer(stream).expires_after(timeout);  // the whole pull
  if (auto w = co_await detail::write_request(stream, req); !w) co_return w.error();
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a long pull talks a lot; each line is bounded by the splitter
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) co_return detail::io_error(ec, "reading the answer to the pull");
  if (parser.get().result_int() >= 400) co_return co_await detail::read_error_body(stream, buffer, parser);
  event_splitter lines(64 * 1024);
  std::vector<json::object> parsed;
  std::array<char, 16 * 1024> piece{};
  while (!parser.is_done()) {
    auto got = co_await detail::read_body_piece(stream, buffer, parser, piece.data(), piece.size());
    if (!got) co_return got.error();
    parsed.clear();
    if (!lines.feed(std::string_view(piece.data(), *got), parsed))
      co_return make_error(errc::protocol, "Docker's pull progress is not JSON lines");
    for (const auto& line : parsed) {
      auto event = parse_pull_event(line);
      if (!event.error.empty()) co_return make_error(errc::status, event.error);
      if (on_progress) on_progress(event);
    }
  }
  co_return result<void>{};
}

}  // namespace

net::awaitable<result<void>> client::pull_image(const image_ref& ref, std::string registry_auth,
                                                std::function<void(const pull_event&)> on_progress,
                                                std::chrono::milliseconds timeout) {
  // Docker takes a digest as the tag, without parse_image_ref's "@".
  const std::string_view tag = ref.tag.starts_with('@') ? std::string_view(ref.tag).substr(1) : std::string_view(ref.tag);
  auto req = detail::make_request(http::verb::post,
                                  "/" + options_.api_version + "/images/create?fromImage=" + detail::url_encode(ref.repository) +
                                      "&tag=" + detail::url_encode(tag),
                                  {});
  if (!registry_auth.empty()) req.set("X-Registry-Auth", registry_auth);
  auto pull_over = [&]<class Stream>() {
    return pull_on<Stream>(executor_, endpoint_, options_, tls_.get(), timeout, std::move(req), on_progress);
  };
  auto pulled = detail::with_stream_type(endpoint_, tls_.get(), pull_over);
  co_return co_await std::move(pulled);
}

net::awaitable<result<json::object>> client::inspect_image(std::string_view ref) {
  if (!parse_image_ref(ref) && !(ref.starts_with("sha256:") && valid_container_ref(ref.substr(7))))
    co_return make_error(errc::invalid, "'" + std::string(ref.substr(0, 80)) + "' is not an image reference");
  auto r = co_await request(http::verb::get, "/images/" + detail::url_encode(ref) + "/json");
  if (!r) co_return r.error();
  error_code ec;
  auto value = json::parse(r->body, ec);
  if (ec || !value.is_object()) co_return make_error(errc::protocol, "Docker's image answer is not a JSON object");
  co_return std::move(value.as_object());
}

net::awaitable<result<std::string>> client::create_container(std::string_view name, const json::object& body) {
  if (!valid_container_ref(name)) co_return make_error(errc::invalid, "'" + std::string(name.substr(0, 80)) + "' is not a container name");
  auto r = co_await request(http::verb::post, "/containers/create?name=" + std::string(name), json::serialize(body));
  if (!r) co_return r.error();
  error_code ec;
  auto value = json::parse(r->body, ec);
  if (ec || !value.is_object() || !value.as_object().contains("Id") || !value.at("Id").is_string())
    co_return make_error(errc::protocol, "Docker's create answer has no Id");
  co_return std::string(value.at("Id").as_string());
}

net::awaitable<result<void>> client::connect_network(std::string_view network, std::string_view container,
                                                     const json::object& endpoint_config) {
  if (!valid_container_ref(network) || !valid_container_ref(container))
    co_return make_error(errc::invalid, "bad network or container name");
  json::object body{{"Container", container}, {"EndpointConfig", endpoint_config}};
  auto r = co_await request(http::verb::post, "/networks/" + std::string(network) + "/connect", json::serialize(body));
  if (!r) co_return r.error();
  co_return result<void>{};
}

}  // namespace dockmon::docker
