// TrustedProxies: the reverse proxies whose forwarding headers are believed
// (STAGEPASS_TRUSTED_PROXIES), and the client address derived from them.
//
// Only when the TCP peer lies in one of the ranges is the one header the proxies write read
// (STAGEPASS_FORWARDED_HEADER): `X-Forwarded-For` (the default) or `Forwarded` (RFC 7239
// §5.2 `for=`). The other header is never read: a proxy appends to one of them, so the other
// came from the client unchecked (RFC 7239 §8.1), and reading it, or letting its presence
// change the answer, would let the client pick its own address. Several field lines of the
// header are one list, in order. The hops are walked from the right (the one the nearest
// proxy appended) to the left, skipping hops that are themselves trusted proxies; the first
// other hop is the client. Anything that cannot be believed falls back to the peer address: a
// hop that is not an IP address ("unknown", an obfuscated identifier, garbage). Hops to the
// left of the client are never parsed.
// Thread safety: immutable after parse(); safe to share between threads.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace stagepass::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // A comma-separated list of CIDR ranges or single addresses, IPv4 or IPv6:
  // "10.0.0.0/8, 2001:db8::/32, 127.0.0.1". Empty text: no trusted proxy. An error names the
  // first entry that is not a range. `header`: "x-forwarded-for" or "forwarded" (any case);
  // anything else is an error.
  static Result<TrustedProxies> parse(std::string_view list,
                                      std::string_view header = "x-forwarded-for");

  bool empty() const { return ranges_.empty(); }
  bool contains(const boost::asio::ip::address& a) const;

  // The client address, as text, for a request whose TCP peer is `peer` (see the header
  // comment). `peer_text` is returned unchanged whenever the headers are not used.
  std::string client_address(const boost::asio::ip::address& peer, std::string_view peer_text,
                             const boost::beast::http::fields& headers) const;

 private:
  struct Range {
    std::array<std::uint8_t, 16> bytes;  // IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d)
    unsigned prefix;                     // bits, out of 128
  };
  std::vector<Range> ranges_;
  bool rfc7239_ = false;  // read `Forwarded`, not `X-Forwarded-For`
};

// One hop of a forwarding header, as a proxy writes it: "192.0.2.1", "192.0.2.1:4711",
// "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:4711". Anything else: nullopt.
std::optional<boost::asio::ip::address> parse_hop(std::string_view hop);

// The `for=` value of each element of a Forwarded field (RFC 7239 §4), quotes removed, in
// order; an element without `for=` gives an empty string. nullopt when the syntax is broken
// (an unterminated quoted-string, a pair without '=').
std::optional<std::vector<std::string>> forwarded_for_values(std::string_view field);

}  // namespace stagepass::http
