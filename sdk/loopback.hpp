// LoopbackListener: the redirect endpoint of a native app (RFC 8252 §7.3). Internal.
//
// Listens on 127.0.0.1 at a port the OS picks, waits for the browser to arrive at `path`
// with the authorization response in the query, answers it with a small page and hands the
// parameters back. Requests for other paths (a favicon) get 404 and waiting goes on.
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
  // Blocks until a request for `path` arrives (its query parameters are returned after
  // `page` decided the answer) or `timeout` passes (kind `timeout`).
  Result<Params> wait(std::chrono::seconds timeout,
                      const std::function<CallbackPage(const Params&)>& page);

 private:
  struct Impl;
  explicit LoopbackListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stagepass::sdk::detail
