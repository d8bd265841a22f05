// Listeners: every socket `stagepass serve` answers on, built from Config.
// - public (STAGEPASS_LISTEN): https when STAGEPASS_TLS_CERT / STAGEPASS_TLS_KEY are set,
//   plain http otherwise;
// - admin (STAGEPASS_ADMIN_LISTEN, optional): plain http for /metrics, /readyz, /healthz;
// - redirect (STAGEPASS_HTTP_REDIRECT_LISTEN, optional): plain http answering every request
//   with 308 to the issuer's https origin and the request's path (never to its Host header).
// A plain-http listener (public or admin) on an address that is not loopback refuses to
// start unless STAGEPASS_INSECURE_HTTP=1: the seed's first rule is "token exchanges only
// over HTTPS" (RFC 6749 §3.1, §3.2), so plain http is only for a TLS-terminating proxy.
// X-Forwarded-For / Forwarded are read on the public listener from STAGEPASS_TRUSTED_PROXIES.
//
// Construct early (it validates the settings and loads the certificate: startup errors come
// before any slow initialisation), start() once the routes exist.
// Thread safety: reload_tls() and stop() may be called from any thread.
// Lifetime: keeps references to the io_context and the Config; both must outlive it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "app/config.hpp"
#include "http/server.hpp"

namespace stagepass {

class Listeners {
 public:
  // Throws std::runtime_error with one clear line on a refused or malformed setting.
  Listeners(boost::asio::io_context& ioc, const Config& cfg);
  bool has_admin() const { return admin_.has_value(); }
  // Binds and accepts. `admin` is used only when has_admin(); `public_errors` renders the
  // public listener's 500s. Throws on a bind failure.
  void start(http::Handler public_site, http::Handler admin, http::ServerErrorPage public_errors);
  // SIGHUP: a new certificate and key for new handshakes; failures are logged, the current
  // ones stay. Reads two files: call it off the I/O threads.
  void reload_tls();
  // Stops every listener (see http::Server::stop), then calls `done` once.
  void stop(std::function<void()> done);
  size_t active_connections() const;

 private:
  boost::asio::io_context& ioc_;
  const Config& cfg_;
  boost::asio::ip::tcp::endpoint public_;
  std::optional<boost::asio::ip::tcp::endpoint> admin_;
  std::optional<boost::asio::ip::tcp::endpoint> redirect_;
  std::shared_ptr<http::TlsContext> tls_;
  http::TrustedProxies proxies_;
  std::vector<std::unique_ptr<http::Server>> servers_;
};

}  // namespace stagepass
