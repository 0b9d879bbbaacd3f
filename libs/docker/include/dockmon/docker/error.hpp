// The outcome of a Docker call: a value, or an error with Docker's status and message.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace dockmon::docker {

enum class errc {
  transport,   // could not reach or talk to the engine (connect refused, reset, timeout)
  status,      // the engine answered with an error status (http_status and message say which)
  protocol,    // the engine's answer could not be understood
  too_large,   // the answer passed the size cap
  invalid,     // the request was refused before it left (bad container id, bad argument)
};

struct error {
  errc code = errc::transport;
  unsigned http_status = 0;  // set for errc::status (404 no such container, 409 conflict, ...)
  std::string message;       // for people: what happened
};

class error_exception : public std::runtime_error {
 public:
  explicit error_exception(const error& e) : std::runtime_error(e.message), error_(e) {}
  const error& get() const { return error_; }

 private:
  error error_;
};

// Lets result<T>::value() throw.
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw error_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

}  // namespace dockmon::docker
