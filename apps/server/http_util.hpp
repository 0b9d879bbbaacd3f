// What every route handler shares: the request and response types, JSON answers and errors, path and
// query parsing, JSON bodies.
#pragma once

#include "dockmon/common/net.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace dockmon::server {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response json_response(const request& req, http::status status, const json::value& body);
// {"error": message} with the status; used wherever the server answers an error.
response error_response(const request& req, http::status status, std::string_view message);

// "/api/hosts/x/" -> {"api", "hosts", "x"}.
std::vector<std::string_view> split_path(std::string_view path);
// The raw value of one query parameter (ours are plain tokens: numbers, ids, times and true/false).
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);
// The body as a JSON object ({} when empty); nullopt when it is not one.
std::optional<json::object> json_body(const request& req);
bool valid_host_id(std::string_view s);

}  // namespace dockmon::server
