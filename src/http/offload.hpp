// offload(): runs blocking work (store calls, Argon2id) on a worker pool and resumes the
// calling coroutine on its own executor, so I/O threads never block.
//
// The work is taken by lvalue reference on purpose: g++ 12 destroys a closure temporary
// created inside a co_await expression twice (a compiler bug seen here as a double free), so
// callers name their lambda first: `auto work = [..] {..}; co_await offload(pool, work);`.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>

namespace stagepass::http {

template <class F, class R = std::invoke_result_t<F&>>
boost::asio::awaitable<R> offload(boost::asio::thread_pool& pool, F& f) {
  namespace asio = boost::asio;
  std::optional<R> result;
  std::exception_ptr error;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto handler) {
        asio::post(pool, [&, handler = std::move(handler)]() mutable {
          try {
            result.emplace(f());
          } catch (...) {
            error = std::current_exception();
          }
          auto ex = asio::get_associated_executor(handler);
          asio::post(ex, std::move(handler));
        });
      },
      asio::use_awaitable);
  if (error) std::rethrow_exception(error);
  co_return std::move(*result);
}

}  // namespace stagepass::http
