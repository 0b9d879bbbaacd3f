// Runs a blocking call (a database query) on a thread pool and resumes the coroutine on its own executor.
#pragma once

#include "dockmon/common/net.hpp"

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace dockmon {

template <class F>
net::awaitable<std::invoke_result_t<F>> run_blocking(net::thread_pool& pool, F f) {
  using result_type = std::invoke_result_t<F>;
  using stored = std::conditional_t<std::is_void_v<result_type>, bool, result_type>;
  auto initiate = [&pool, f = std::move(f)](auto handler) mutable {
    auto work = net::make_work_guard(net::get_associated_executor(handler));
    net::post(pool, [f = std::move(f), handler = std::move(handler), work = std::move(work)]() mutable {
      std::exception_ptr failure;
      std::optional<stored> value;
      try {
        if constexpr (std::is_void_v<result_type>) {
          f();
          value.emplace(true);
        } else {
          value.emplace(f());
        }
      } catch (...) {
        failure = std::current_exception();
      }
      auto ex = work.get_executor();
      net::dispatch(ex, [handler = std::move(handler), failure, value = std::move(value)]() mutable {
        std::move(handler)(failure, std::move(value));
      });
    });
  };
  auto value = co_await net::async_initiate<decltype(net::use_awaitable), void(std::exception_ptr, std::optional<stored>)>(
      std::move(initiate), net::use_awaitable);
  if constexpr (!std::is_void_v<result_type>) co_return std::move(*value);
}

}  // namespace dockmon
