// Short names for the Asio, Beast and JSON namespaces every part of DockMon uses.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

namespace dockmon {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

// Completion token for I/O whose expected failures are read from the returned tuple.
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}  // namespace dockmon
