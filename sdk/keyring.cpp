// The token-cache key in the Secret Service, through libsecret (see keyring.hpp).
//
// Every libsecret call here is a *_sync one sharing one GCancellable, which a watchdog
// thread cancels when the deadline passes. Order of calls, none of which can prompt:
//   secret_service_get_sync          connect (D-Bus activation of the service if needed)
//   secret_service_search_sync       our entry, without unlocking anything
//   secret_password_lookup_sync      only when an unlocked entry exists
//   secret_collection_for_alias_sync the default collection: must exist and be unlocked
//   secret_password_store_sync       only then
// secret_password_lookup_sync and secret_password_store_sync would themselves unlock a
// locked collection, or create a missing default one, and both ask the user through a
// system prompt (a window on a desktop): hence the checks before them.
#include "keyring.hpp"

#include <libsecret/secret.h>
#include <sodium.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>
#include <thread>
#include <utility>

namespace stagepass::sdk::detail {

KeyringKey::KeyringKey(Status s, std::string k, std::string m)
    : status(s), key(std::move(k)), message(std::move(m)) {}

KeyringKey::~KeyringKey() { sodium_memzero(key.data(), key.size()); }

namespace {

using Status = KeyringKey::Status;

constexpr std::size_t kKeyBytes = crypto_secretbox_KEYBYTES;
constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL;

KeyringKey unavailable(std::string why) { return {Status::unavailable, {}, std::move(why)}; }
KeyringKey failed(std::string why) { return {Status::failed, {}, std::move(why)}; }

const SecretSchema* schema() {
  static const SecretSchema s = [] {
    SecretSchema v{};  // zeroes the unused attributes and the reserved fields
    v.name = "dev.stagepass.TokenCacheKey";
    v.flags = SECRET_SCHEMA_NONE;  // lookups also match xdg:schema
    v.attributes[0].name = "directory";
    v.attributes[0].type = SECRET_SCHEMA_ATTRIBUTE_STRING;
    return v;
  }();
  return &s;
}

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

// Owns the GError a call may set.
class GErrorBox {
 public:
  GErrorBox() = default;
  GErrorBox(const GErrorBox&) = delete;
  GErrorBox& operator=(const GErrorBox&) = delete;
  ~GErrorBox() { g_clear_error(&e_); }
  GError** out() {
    g_clear_error(&e_);
    return &e_;
  }
  explicit operator bool() const { return e_ != nullptr; }
  bool cancelled() const { return g_error_matches(e_, G_IO_ERROR, G_IO_ERROR_CANCELLED); }
  std::string message() const { return e_ && e_->message ? e_->message : "unknown error"; }

 private:
  GError* e_ = nullptr;
};

// A GCancellable that a watchdog thread cancels once `timeout` has passed, unless this is
// destroyed first.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds timeout)
      : timeout_(timeout),
        cancellable_(g_cancellable_new()),
        watchdog_([this](std::stop_token stop) {
          std::mutex mu;
          std::condition_variable_any cv;
          std::unique_lock lock(mu);
          cv.wait_for(lock, stop, timeout_, [] { return false; });
          if (!stop.stop_requested()) g_cancellable_cancel(cancellable_.get());
        }) {}
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  ~Deadline() = default;  // watchdog_ goes first: stop requested and joined

  GCancellable* cancellable() const { return cancellable_.get(); }

  // Why `e` happened, in words: a cancellation here can only be the deadline.
  std::string explain(const GErrorBox& e) const {
    if (e.cancelled()) return "no answer within " + std::to_string(timeout_.count()) + " ms";
    return e.message();
  }

 private:
  std::chrono::milliseconds timeout_;
  GObjectPtr<GCancellable> cancellable_;
  std::jthread watchdog_;
};

// 32 bytes from the base64 text the keyring holds; nullopt for anything else.
std::optional<std::string> decode_key(const char* text) {
  const std::size_t length = std::strlen(text);
  std::string key(kKeyBytes, '\0');
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text, length,
                        nullptr, &decoded, &end, kBase64) != 0 ||
      decoded != kKeyBytes || end != text + length) {
    sodium_memzero(key.data(), key.size());
    return std::nullopt;
  }
  return key;
}

// The pid of the first process that talked to the bus, 0 before.
pid_t bus_user_pid = 0;

KeyringKey lookup_or_store(const std::string& directory, std::chrono::milliseconds timeout) {
  const char* dir = directory.c_str();
  Deadline deadline(timeout);
  GCancellable* cancel = deadline.cancellable();
  GErrorBox error;

  GObjectPtr<SecretService> service(
      secret_service_get_sync(SECRET_SERVICE_NONE, cancel, error.out()));
  if (!service) return unavailable("no Secret Service: " + deadline.explain(error));

  // Look without unlocking: an entry only in locked collections counts as out of reach.
  GHashTable* attributes = secret_attributes_build(schema(), "directory", dir, nullptr);
  GList* items = secret_service_search_sync(service.get(), schema(), attributes, SECRET_SEARCH_ALL,
                                            cancel, error.out());
  g_hash_table_unref(attributes);
  if (error) return unavailable("cannot search the keyring: " + deadline.explain(error));
  bool unlocked = false, locked = false;
  for (GList* i = items; i != nullptr; i = i->next) {
    (secret_item_get_locked(SECRET_ITEM(i->data)) ? locked : unlocked) = true;
  }
  g_list_free_full(items, g_object_unref);

  if (unlocked) {
    gchar* text =
        secret_password_lookup_sync(schema(), cancel, error.out(), "directory", dir, nullptr);
    if (error) return unavailable("cannot read the keyring: " + deadline.explain(error));
    if (text != nullptr) {  // else removed since the search: store a new one below
      std::optional<std::string> key = decode_key(text);
      secret_password_free(text);  // wipes it
      if (!key) {
        return failed("the keyring entry for " + directory + " is not a base64 " +
                      std::to_string(kKeyBytes) +
                      "-byte key; remove it with `secret-tool clear directory " + directory +
                      "` (the cached tokens are lost: log in again)");
      }
      return {Status::found, std::move(*key), {}};
    }
  } else if (locked) {
    return unavailable("the keyring entry for " + directory +
                       " is in a locked collection; unlocking it needs a prompt");
  }

  GObjectPtr<SecretCollection> collection(secret_collection_for_alias_sync(
      service.get(), SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, cancel, error.out()));
  if (error) return unavailable("cannot find the default keyring: " + deadline.explain(error));
  if (!collection) return unavailable("no default keyring; creating one needs a prompt");
  if (secret_collection_get_locked(collection.get())) {
    return unavailable("the default keyring is locked; unlocking it needs a prompt");
  }

  std::string key(kKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  char text[sodium_base64_ENCODED_LEN(kKeyBytes, kBase64)];
  sodium_bin2base64(text, sizeof text, reinterpret_cast<const unsigned char*>(key.data()),
                    key.size(), kBase64);
  const std::string label = "Stagepass token cache key (" + directory + ")";
  const bool stored =
      secret_password_store_sync(schema(), SECRET_COLLECTION_DEFAULT, label.c_str(), text, cancel,
                                 error.out(), "directory", dir, nullptr);
  sodium_memzero(text, sizeof text);
  if (!stored) {
    sodium_memzero(key.data(), key.size());
    return unavailable("cannot store in the keyring: " + deadline.explain(error));
  }
  return {Status::created, std::move(key), {}};
}

}  // namespace

KeyringKey keyring_key(const std::string& directory, std::chrono::milliseconds timeout) {
  const char* off = std::getenv("STAGEPASS_KEYRING");
  if (off && std::string_view(off) == "off") return unavailable("STAGEPASS_KEYRING is \"off\"");
  const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  if (!bus || !*bus) return unavailable("DBUS_SESSION_BUS_ADDRESS is not set");
  if (directory.find('\0') != std::string::npos ||
      !g_utf8_validate(directory.data(), static_cast<gssize>(directory.size()), nullptr)) {
    return unavailable("the directory name is not UTF-8, which D-Bus requires");
  }

  static std::mutex mu;
  std::lock_guard lock(mu);
  if (bus_user_pid == 0) {
    bus_user_pid = ::getpid();
  } else if (bus_user_pid != ::getpid()) {
    return failed(
        "the keyring cannot be used in a process forked after its parent used it; open the "
        "token store before forking, or in a fresh process");
  }
  return lookup_or_store(directory, timeout);
}

}  // namespace stagepass::sdk::detail
