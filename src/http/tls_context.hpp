// TlsContext: the server side of TLS (OpenSSL 3 through Asio), built from a PEM certificate
// chain and a PEM private key, and swappable at run time.
//
// Policy (one place, applied to every build of the context): TLS 1.2 and 1.3 only; TLS 1.2
// limited to ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305), server
// order; TLS 1.3's default AEAD suites; no compression, no renegotiation; ALPN "http/1.1"
// (a client offering only other protocols is refused, RFC 7301 §3.2, which also stops
// cross-protocol attacks that replay TLS to another service sharing the certificate).
//
// reload() rebuilds from the same paths (SIGHUP, after a certificate renewal). Each
// connection holds the context it started with (current() returns a shared_ptr), so a reload
// never drops an open connection; new handshakes use the new context. A reload that fails
// (missing file, key not matching the certificate) keeps the current context.
// Thread safety: current() and reload() may be called from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"

namespace stagepass::http {

class TlsContext {
 public:
  // Loads both files. Error: one line naming the file and OpenSSL's reason.
  static Result<std::shared_ptr<TlsContext>> load(std::string cert_file, std::string key_file);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  Status<> reload();
  // The certificate's subject and expiry, for the startup and reload log lines.
  std::string describe() const;

 private:
  TlsContext(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}
  Result<std::shared_ptr<boost::asio::ssl::context>> build() const;

  const std::string cert_file_;
  const std::string key_file_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;
};

}  // namespace stagepass::http
