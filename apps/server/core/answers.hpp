// What every route handler shares: the request and response types, JSON answers and errors, path and
// query parsing, JSON bodies.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/store/store.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace dockmon::server {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response json_response(const request& req, http::status status, const json::value& body);
// {"error": message} with the status; used wherever the server answers an error.
response error_response(const request& req, http::status status, std::string_view message);

// The answers a route handler gives to the request it serves; handlers derive from it.
class route_answers {
 public:
  explicit route_answers(const request& req) : req_(&req) {}
  response ok(const json::value& body, http::status status = http::status::ok) const {
    return json_response(*req_, status, body);
  }
  response fail(http::status status, std::string_view message) const { return error_response(*req_, status, message); }
  response method_not_allowed() const { return fail(http::status::method_not_allowed, "method not allowed"); }

 private:
  const request* req_;
};

// "/api/hosts/x/" -> {"api", "hosts", "x"}.
std::vector<std::string_view> split_path(std::string_view path);
// The raw value of one query parameter (ours are plain tokens: numbers, ids, times and true/false).
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);
// The body as a JSON object ({} when empty); nullopt when it is not one.
std::optional<json::object> json_body(const request& req);
bool valid_host_id(std::string_view s);

}  // namespace dockmon::server
