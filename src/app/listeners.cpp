#include "app/listeners.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "monitor/log.hpp"

namespace stagepass {
namespace asio = boost::asio;
using asio::ip::tcp;
using http::Request;
using http::Response;

namespace {

tcp::endpoint parse_listen(const std::string& listen, const char* setting) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error(std::string(setting) + " must be host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error(std::string(setting) + " host must be an IP address: " + host);
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    throw std::runtime_error(std::string(setting) + " port must be 0-65535, got '" + port + "'");
  }
  return {addr, static_cast<unsigned short>(std::stoi(port))};
}

bool is_loopback(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  return a.is_loopback();
}

void refuse_plain_http(const Config& cfg, const tcp::endpoint& ep, const char* setting,
                       const std::string& value) {
  if (is_loopback(ep.address()) || cfg.insecure_http) return;
  throw std::runtime_error(std::string(setting) + "=" + value +
                           " would serve plain http on a non-loopback address: set "
                           "STAGEPASS_TLS_CERT and STAGEPASS_TLS_KEY, or STAGEPASS_INSECURE_HTTP=1 "
                           "behind a TLS-terminating proxy");
}

http::AccessLogger access_logger(bool enabled) {
  if (!enabled) return {};
  return [](const http::AccessRecord& r) {
    log::event("info", "request",
               {{"method", r.method},
                {"path", r.path},
                {"status", r.status},
                {"latency_ms", r.latency_ms},
                {"client_id", r.client_id},
                {"ip", r.remote_ip}});
  };
}

void server_event(const http::ServerEvent& e) {
  log::event(e.level, e.msg, {{"path", e.path}, {"detail", e.detail}});
}

// RFC 9110 §15.4.9: 308 keeps the method and body; the target is the issuer's own origin, so
// a forged Host header cannot turn this listener into an open redirect.
// API and token paths (/api/..., /v1/...) are refused instead of redirected: a client that
// sent a token or credentials here has already sent them in clear, and a redirect that
// works would teach it to keep doing so (RFC 6749 §3.2: the token endpoint "MUST" be TLS;
// RFC 6750 §5.3: bearer tokens only over TLS). Spec-shaped errors: OAuth's for /api, the Web
// API's for /v1.
http::Handler redirect_to(std::string origin) {
  return [origin = std::move(origin)](Request& req) -> asio::awaitable<Response> {
    auto path = req.path();
    auto under = [&](std::string_view prefix) {
      return path == prefix || path.starts_with(std::string(prefix) + "/");
    };
    if (under("/api")) {
      co_return Response::json(400, R"({"error":"invalid_request","error_description":)"
                                    R"("this endpoint is served over https only"})")
          .header("Cache-Control", "no-store");
    }
    if (under("/v1")) {
      co_return Response::json(
          403, R"({"error":{"status":403,"message":"This API is served over https only"}})")
          .header("Cache-Control", "no-store");
    }
    std::string location = origin;
    auto target = req.target();
    if (target.starts_with('/'))
      location.append(target.data(), target.size());
    else
      location += '/';  // absolute-form or asterisk-form: the origin's root
    co_return Response::redirect(std::move(location), 308);
  };
}

// The private key should be readable by the server's user alone; a group- or world-readable
// key file is reported (not refused: e.g. Debian's ssl-cert group is a deliberate choice).
void warn_if_key_shared(const std::string& key_file) {
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  log::event("warn", "TLS key file is readable by other users: chmod 600 it",
             {{"file", key_file}, {"mode", mode}});
}

// Every connection holds a descriptor. Raises the soft RLIMIT_NOFILE to the hard limit (the
// soft one is often 1024), then lowers `wanted` so that connections alone cannot exhaust
// the descriptors: what is open now (stores, logs, listeners), `side` (the other listeners'
// connections) and `spare` (SQLite journals, the JWKS fetch) stay available. Logs a
// lowering.
size_t connections_within_fd_limit(size_t wanted, size_t side, size_t spare) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return wanted;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return wanted;
  size_t open = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++open;
  }
  if (ec || open == 0) open = 32;
  const size_t reserve = open + side + spare;
  const size_t limit = static_cast<size_t>(rl.rlim_cur);
  const size_t allowed = limit > reserve + 1 ? limit - reserve : 1;
  if (allowed >= wanted) return wanted;
  log::event("warn", "max_connections lowered to fit the open-file limit",
             {{"configured", wanted},
              {"max_connections", allowed},
              {"open_files_limit", limit},
              {"open_files", open}});
  return allowed;
}

}  // namespace

Listeners::Listeners(asio::io_context& ioc, const Config& cfg) : ioc_(ioc), cfg_(cfg) {
  public_ = parse_listen(cfg.listen, "STAGEPASS_LISTEN");
  if (cfg.tls()) {
    auto tls = http::TlsContext::load(cfg.tls_cert, cfg.tls_key);
    if (!tls) throw std::runtime_error(tls.error().message);
    tls_ = std::move(*tls);
    warn_if_key_shared(cfg.tls_key);
  } else {
    refuse_plain_http(cfg, public_, "STAGEPASS_LISTEN", cfg.listen);
  }
  if (!cfg.admin_listen.empty()) {
    admin_ = parse_listen(cfg.admin_listen, "STAGEPASS_ADMIN_LISTEN");
    refuse_plain_http(cfg, *admin_, "STAGEPASS_ADMIN_LISTEN", cfg.admin_listen);
  }
  if (!cfg.http_redirect_listen.empty()) {
    if (!cfg.issuer.starts_with("https://")) {
      throw std::runtime_error(
          "STAGEPASS_HTTP_REDIRECT_LISTEN redirects to the https issuer, but STAGEPASS_ISSUER is " +
          cfg.issuer);
    }
    redirect_ = parse_listen(cfg.http_redirect_listen, "STAGEPASS_HTTP_REDIRECT_LISTEN");
  }
  if (auto h = http::TrustedProxies::parse("", cfg.forwarded_header); !h) {
    throw std::runtime_error("STAGEPASS_FORWARDED_HEADER: " + h.error().message);
  }
  auto proxies = http::TrustedProxies::parse(cfg.trusted_proxies, cfg.forwarded_header);
  if (!proxies) throw std::runtime_error("STAGEPASS_TRUSTED_PROXIES: " + proxies.error().message);
  proxies_ = std::move(*proxies);
}

void Listeners::start(http::Handler public_site, http::Handler admin,
                      http::ServerErrorPage public_errors) {
  const Tunables& tune = cfg_.tunables;
  http::Limits limits;
  limits.body_bytes = static_cast<size_t>(cfg_.max_body_bytes);
  limits.header_bytes = static_cast<size_t>(cfg_.max_header_bytes);
  limits.read_timeout = tune.read_timeout;
  limits.idle_timeout = tune.idle_timeout;
  limits.handshake_timeout = tune.handshake_timeout;
  limits.shutdown_grace = tune.shutdown_grace;
  const size_t side = (admin_ ? tune.side_listener_connections : 0) +
                      (redirect_ ? tune.side_listener_connections : 0);
  limits.max_connections =
      connections_within_fd_limit(static_cast<size_t>(std::max<int64_t>(1, cfg_.max_connections)),
                                  side, tune.spare_descriptors);
  auto options = [&](size_t max_connections) {
    http::ServerOptions o;
    o.limits = limits;
    o.limits.max_connections = max_connections;
    o.access_log = access_logger(cfg_.access_log);
    o.events = server_event;
    o.hsts = "max-age=" + std::to_string(tune.hsts_max_age_seconds);
    return o;
  };
  auto open = [&](http::Handler handler, http::ServerOptions o, const tcp::endpoint& ep,
                  const char* setting) {
    auto server = std::make_unique<http::Server>(ioc_, std::move(handler), std::move(o));
    try {
      server->listen(ep);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("cannot listen on ") + ep.address().to_string() + ":" +
                               std::to_string(ep.port()) + " (" + setting + "): " + e.what());
    }
    servers_.push_back(std::move(server));
  };
  auto site = options(limits.max_connections);
  site.tls = tls_;
  site.proxies = proxies_;
  site.server_error = std::move(public_errors);
  open(std::move(public_site), std::move(site), public_, "STAGEPASS_LISTEN");
  const size_t side_cap = std::min(tune.side_listener_connections, limits.max_connections);
  if (admin_) open(std::move(admin), options(side_cap), *admin_, "STAGEPASS_ADMIN_LISTEN");
  if (redirect_) {
    std::string origin = cfg_.issuer.substr(0, cfg_.issuer.find('/', 8));
    open(redirect_to(std::move(origin)), options(side_cap), *redirect_,
         "STAGEPASS_HTTP_REDIRECT_LISTEN");
  }
  if (tls_) log::event("info", "tls certificate", {{"certificate", tls_->describe()}});
}

void Listeners::reload_tls() {
  if (!tls_) return;
  if (auto st = tls_->reload(); !st) {
    log::event("error", "tls reload failed; the current certificate stays",
               {{"error", st.error().message}});
    return;
  }
  log::event("info", "tls reloaded", {{"certificate", tls_->describe()}});
}

void Listeners::stop(std::function<void()> done) {
  auto left = std::make_shared<std::atomic<size_t>>(servers_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  if (servers_.empty()) return (*shared_done)();
  for (auto& s : servers_) {
    s->stop([left, shared_done] {
      if (--*left == 0) (*shared_done)();
    });
  }
}

size_t Listeners::active_connections() const {
  size_t n = 0;
  for (const auto& s : servers_) n += s->active_connections();
  return n;
}

}  // namespace stagepass
