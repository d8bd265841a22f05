#include "http/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

namespace stagepass::http {
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2: forward secrecy (ECDHE) and AEAD only, as in Mozilla's "intermediate" profile
// minus finite-field DHE. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

// OpenSSL's first queued reason, and the queue cleared (it is per thread).
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// RFC 7301 §3.2: "In the event that the server supports no protocols that the client
// advertises, then the server SHALL respond with a fatal 'no_application_protocol' alert."
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  unsigned char selected_len = 0;
  if (SSL_select_next_proto(&selected, &selected_len, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *outlen = selected_len;
  return SSL_TLSEXT_ERR_OK;
}

// An encrypted private key needs a passphrase, and OpenSSL's default is to prompt for it on
// the terminal: a service must never wait on a prompt. This callback answers no passphrase
// and notes that one was asked for, so the load fails with a clear message instead.
int refuse_passphrase(char*, int, int, void* asked) {
  if (asked) *static_cast<bool*>(asked) = true;
  return -1;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::load(std::string cert_file, std::string key_file) {
  std::shared_ptr<TlsContext> t(new TlsContext(std::move(cert_file), std::move(key_file)));
  auto ctx = t->build();
  if (!ctx) return fail(ctx.error());
  t->ctx_ = std::move(*ctx);
  return t;
}

Result<std::shared_ptr<ssl::context>> TlsContext::build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* n = ctx->native_handle();
  auto problem = [](std::string what) {
    return fail(Error{ErrorCode::kIo, what + ": " + openssl_reason()});
  };
  if (SSL_CTX_set_min_proto_version(n, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(n, TLS1_3_VERSION) != 1) {
    return problem("cannot limit TLS versions");
  }
  // SSL_OP_NO_TICKET: no stateless TLS 1.2 session tickets, whose encryption key lives as
  // long as the process and so would undo forward secrecy for every ticketed session (TLS
  // 1.3 then resumes from the per-context cache, dropped with the context on a reload).
  SSL_CTX_set_options(n, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE |
                             SSL_OP_NO_TICKET);
  // Idle keep-alive connections give their read and write buffers back (about 34 KiB each).
  SSL_CTX_set_mode(n, SSL_MODE_RELEASE_BUFFERS);
  bool passphrase_asked = false;
  SSL_CTX_set_default_passwd_cb(n, refuse_passphrase);
  SSL_CTX_set_default_passwd_cb_userdata(n, &passphrase_asked);
  if (SSL_CTX_set_cipher_list(n, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(n, kTls13Suites) != 1 || SSL_CTX_set1_groups_list(n, kGroups) != 1) {
    return problem("cannot set the TLS cipher policy");
  }
  SSL_CTX_set_alpn_select_cb(n, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(n, cert_file_.c_str()) != 1) {
    return problem("cannot load TLS certificate " + cert_file_);
  }
  const std::string mismatch = "TLS key " + key_file_ + " does not match certificate " + cert_file_;
  const int key_loaded = SSL_CTX_use_PrivateKey_file(n, key_file_.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb_userdata(n, nullptr);  // `passphrase_asked` goes out of scope
  if (passphrase_asked) {
    ERR_clear_error();
    return fail(
        Error{ErrorCode::kIo, "TLS key " + key_file_ +
                                  " is encrypted: stagepass never asks for a passphrase; give it "
                                  "the key unencrypted, readable only by its user"});
  }
  if (key_loaded != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return fail(Error{ErrorCode::kIo, mismatch});
    }
    return problem("cannot load TLS key " + key_file_);
  }
  if (SSL_CTX_check_private_key(n) != 1) return problem(mismatch);
  return ctx;
}

std::shared_ptr<ssl::context> TlsContext::current() const {
  std::lock_guard lk(mu_);
  return ctx_;
}

Status<> TlsContext::reload() {
  auto ctx = build();
  if (!ctx) return fail(ctx.error());
  std::lock_guard lk(mu_);
  ctx_ = std::move(*ctx);
  return Ok{};
}

std::string TlsContext::describe() const {
  auto ctx = current();
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!cert) return "no certificate";
  std::string out;
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "certificate";
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_ONELINE);
  BIO_puts(bio, ", expires ");
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len > 0) out.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

}  // namespace stagepass::http
