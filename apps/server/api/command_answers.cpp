// How a command the agent did not carry out is answered over REST.
#include "api/handlers.hpp"

namespace dockmon::server {

response command_failure(const request& req, const command_outcome& o) {
  using st = command_outcome::status;
  switch (o.result) {
    case st::not_connected:
    case st::disconnected: return error_response(req, http::status::conflict, "the host's agent is offline: " + o.error);
    case st::timeout: return error_response(req, http::status::gateway_timeout, "the agent did not answer in time");
    case st::agent_error: {
      // Our agent adds Docker's status; a missing container is the caller's 404, not a gateway failure.
      if (o.payload.is_object()) {
        if (auto* code = o.payload.get_object().if_contains("status_code"); code != nullptr && code->is_int64()) {
          if (code->as_int64() == 404) return error_response(req, http::status::not_found, o.error);
          if (code->as_int64() == 409) return error_response(req, http::status::conflict, o.error);
          if (code->as_int64() == 403) return error_response(req, http::status::forbidden, o.error);
          if (code->as_int64() == 429) return error_response(req, http::status::too_many_requests, o.error);
        }
      }
      return error_response(req, http::status::bad_gateway, o.error);
    }
    case st::ok: break;
  }
  return error_response(req, http::status::internal_server_error, "unexpected outcome");
}

}  // namespace dockmon::server
