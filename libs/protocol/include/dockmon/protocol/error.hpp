// Why a frame was refused; the text goes back to the peer, so it names the field and never echoes input.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace dockmon::protocol {

// Built only through because(): a plain string must never convert into an error by accident
// (result<std::string> would not know which side a string belongs to).
class protocol_error {
 public:
  protocol_error() = default;  // user-declared: keeps this from being an aggregate
  static protocol_error because(std::string why) {
    protocol_error e;
    e.message = std::move(why);
    return e;
  }
  std::string message;
};

[[noreturn]] inline void throw_exception_from_error(const protocol_error& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

template <class T>
using result = boost::system::result<T, protocol_error>;

}  // namespace dockmon::protocol
