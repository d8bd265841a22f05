// LoopbackListener: the redirect endpoint of a native app (RFC 8252 §7.3). Internal.
//
// Listens on 127.0.0.1 at a port the OS picks and waits for the browser to bring back the
// authorization response for *this* sign-in: a GET of `path` with `Host: 127.0.0.1:PORT` and
// the `state` the app sent. Anything else — another path (a favicon), another Host (a
// DNS-rebinding page, RFC 8252 §8.3), another or no state (a stale tab, a guess, a page
// that found the port) — gets a short page of its own and waiting goes on, so it can
// neither end the sign-in nor inject a code. At most 16 connections are served at once; one
// that sends nothing for 2 s is closed, and each gets 10 s in all. When all 16 slots are
// taken, a new connection takes the slot of the oldest one that has not sent a byte (else of
// the oldest one), so sockets held open in silence by a local process cannot keep the
// browser's answer (sent in one piece) out.
// Thread safety: one thread uses a listener at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "stagepass/result.hpp"

namespace stagepass::sdk::detail {

using Params = std::map<std::string, std::string>;

// What the browser sees: a status and a short plain message.
struct CallbackPage {
  int status = 200;
  std::string message;
};

class LoopbackListener {
 public:
  static Result<std::unique_ptr<LoopbackListener>> open(std::string path);
  ~LoopbackListener();

  // http://127.0.0.1:PORT/path — register http://127.0.0.1/path with the server.
  std::string redirect_uri() const;
  // Blocks until the answer described above arrives — its query parameters are returned
  // after `page` decided what the browser sees — or `timeout` passes (kind `timeout`).
  // `state` is compared in constant time. Call once; the listener stops listening after.
  Result<Params> wait(std::chrono::seconds timeout, const std::string& state,
                      const std::function<CallbackPage(const Params&)>& page);

 private:
  struct Impl;
  explicit LoopbackListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stagepass::sdk::detail
