// The token-cache key in the OS keyring (the freedesktop Secret Service over D-Bus, through
// libsecret: GNOME Keyring, KeePassXC, KWallet's Secret Service bridge...). Internal to the
// SDK; FileTokenStore::open is its only caller.
//
// One entry per cache directory, in the keyring's default collection:
//   schema  "dev.stagepass.TokenCacheKey" (stored as the xdg:schema attribute)
//   attribute "directory" = the absolute, canonical cache directory
//   label   "Stagepass token cache key (<directory>)"
//   secret  the 32-byte key, base64 (libsodium's original variant, with padding)
// so `secret-tool search directory <dir>` finds it and `secret-tool clear directory <dir>`
// forgets it.
//
// Never prompts, never hangs:
// - Nothing is tried unless DBUS_SESSION_BUS_ADDRESS is set and non-empty and
//   STAGEPASS_KEYRING is not "off".
// - Before any call that could make the service ask the user something (unlocking a
//   collection, creating the default one), the state is checked with calls that cannot:
//   an entry only in a locked collection, a locked default collection or no default
//   collection at all make the keyring `unavailable` instead.
// - The whole exchange (including D-Bus activation of the service) shares one deadline;
//   when it passes, the pending call is cancelled and the keyring is `unavailable`.
//
// Thread safety: keyring_key() may be called from any thread; calls are serialised inside.
// libsecret starts GLib's D-Bus worker thread on first use and keeps a process-wide
// connection to the session bus, which does not survive fork(): in a child forked after the
// parent used the keyring, keyring_key() fails (status `failed`) rather than hang.
#pragma once

#include <chrono>
#include <string>

namespace stagepass::sdk::detail {

struct KeyringKey {
  enum class Status {
    found,        // the entry exists; `key` holds its 32 bytes
    created,      // there was none: a new random key was stored; `key` holds it
    unavailable,  // no usable keyring (see above); nothing was stored; `message` says why
    failed,       // the keyring cannot be used safely: the entry exists but is not base64
                  // of 32 bytes, or the process forked after using it; `message` says why
  };

  KeyringKey(Status s, std::string k, std::string m);
  KeyringKey(KeyringKey&&) = default;
  KeyringKey& operator=(KeyringKey&&) = default;
  ~KeyringKey();  // wipes `key`

  bool has_key() const { return status == Status::found || status == Status::created; }

  Status status;
  std::string key;      // 32 bytes when has_key(), else empty
  std::string message;  // one line, no secret; empty when has_key()
};

inline constexpr std::chrono::milliseconds kKeyringTimeout{5000};

// Looks up the key for `directory` (absolute and canonical; compared byte for byte) and,
// when there is none, generates 32 random bytes (libsodium; sodium_init() must have
// succeeded) and stores them. `timeout` bounds the whole call.
//
// Not atomic across processes: the caller serialises calls for one directory (FileTokenStore
// holds the flock of tokens.lock), otherwise two first uses could each store a key.
// A store that times out after the service received it may leave an entry behind while this
// returns `unavailable`; the caller then keeps its key elsewhere and the entry is unused.
KeyringKey keyring_key(const std::string& directory,
                       std::chrono::milliseconds timeout = kKeyringTimeout);

}  // namespace stagepass::sdk::detail
