#include "http/trusted_proxies.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

namespace stagepass::http {
namespace ip = boost::asio::ip;
namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// IPv4 as IPv4-mapped IPv6, so one comparison serves both families and dual-stack peers.
std::array<std::uint8_t, 16> to_bytes(const ip::address& a) {
  if (a.is_v4()) return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

// Every value of one header, joined as one list (RFC 9110 §5.3: field lines of the same
// name combine, in order, with commas).
std::optional<std::string> joined(const bhttp::fields& headers, std::string_view name) {
  auto [first, last] = headers.equal_range(name);
  if (first == last) return std::nullopt;
  std::string out;
  for (auto it = first; it != last; ++it) {
    if (!out.empty()) out += ',';
    out.append(it->value().data(), it->value().size());
  }
  return out;
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);  // RFC 9110 §5.6.1: ignore empty elements
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::optional<ip::address> parse_hop(std::string_view hop) {
  hop = trim(hop);
  boost::system::error_code ec;
  if (hop.starts_with('[')) {  // "[v6]" or "[v6]:port"
    auto close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto rest = hop.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && all_digits(rest.substr(1), 5)))
      return std::nullopt;
    auto inner = std::string(hop.substr(1, close - 1));
    if (inner.find('%') != std::string::npos) return std::nullopt;  // no zone ids
    auto a = ip::make_address_v6(inner, ec);
    if (ec) return std::nullopt;
    return ip::address(a);
  }
  auto colons = std::count(hop.begin(), hop.end(), ':');
  if (colons >= 2) {  // a bare IPv6 address (X-Forwarded-For writes them so)
    if (hop.find('%') != std::string_view::npos) return std::nullopt;
    auto a = ip::make_address_v6(std::string(hop), ec);
    if (ec) return std::nullopt;
    return ip::address(a);
  }
  if (colons == 1) {  // "v4:port"
    auto colon = hop.find(':');
    if (!all_digits(hop.substr(colon + 1), 5)) return std::nullopt;
    hop = hop.substr(0, colon);
  }
  auto a = ip::make_address_v4(std::string(hop), ec);  // inet_pton: dotted quad only
  if (ec) return std::nullopt;
  return ip::address(a);
}

std::optional<std::vector<std::string>> forwarded_for_values(std::string_view field) {
  // RFC 7239 §4: Forwarded = 1#forwarded-element;
  // forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] );
  // forwarded-pair = token "=" value; value = token / quoted-string.
  std::vector<std::string> out;
  std::string element_for;
  bool element_has_content = false;
  size_t i = 0;
  auto end_element = [&] {
    if (element_has_content) out.push_back(element_for);
    element_for.clear();
    element_has_content = false;
  };
  while (i <= field.size()) {
    // One pair: up to ';' or ',' outside a quoted-string.
    while (i < field.size() && (field[i] == ' ' || field[i] == '\t')) ++i;
    if (i == field.size()) break;
    if (field[i] == ',') {
      end_element();
      ++i;
      continue;
    }
    if (field[i] == ';') {
      ++i;
      continue;
    }
    auto eq = field.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name(trim(field.substr(i, eq - i)));
    if (name.empty() || name.find_first_of(",;\"") != std::string::npos) return std::nullopt;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    i = eq + 1;
    while (i < field.size() && (field[i] == ' ' || field[i] == '\t')) ++i;
    std::string value;
    if (i < field.size() && field[i] == '"') {
      ++i;
      bool closed = false;
      while (i < field.size()) {
        char c = field[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == field.size()) return std::nullopt;
          c = field[i++];  // RFC 9110 §5.6.4 quoted-pair
        }
        value += c;
      }
      if (!closed) return std::nullopt;
      while (i < field.size() && (field[i] == ' ' || field[i] == '\t')) ++i;
      if (i < field.size() && field[i] != ';' && field[i] != ',') return std::nullopt;
    } else {
      auto stop = field.find_first_of(";,", i);
      if (stop == std::string_view::npos) stop = field.size();
      value = std::string(trim(field.substr(i, stop - i)));
      if (value.find('"') != std::string::npos) return std::nullopt;
      i = stop;
    }
    element_has_content = true;
    if (name == "for") element_for = std::move(value);
  }
  end_element();
  return out;
}

Result<TrustedProxies> TrustedProxies::parse(std::string_view list, std::string_view header) {
  TrustedProxies t;
  std::string h(trim(header));
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h == "forwarded") {
    t.rfc7239_ = true;
  } else if (h != "x-forwarded-for") {
    return fail(Error{ErrorCode::kInvalid,
                      "the forwarding header must be x-forwarded-for or forwarded, got '" +
                          std::string(header) + "'"});
  }
  for (const auto& entry : split_list(list)) {
    auto bad = [&] {
      return fail(Error{ErrorCode::kInvalid, "'" + entry + "' is not an IP address or CIDR range"});
    };
    auto slash = entry.find('/');
    boost::system::error_code ec;
    auto a = ip::make_address(entry.substr(0, slash), ec);
    if (ec) return bad();
    unsigned max_bits = a.is_v4() ? 32 : 128;
    unsigned bits = max_bits;
    if (slash != std::string::npos) {
      auto digits = std::string_view(entry).substr(slash + 1);
      if (!all_digits(digits, 3)) return bad();
      bits = static_cast<unsigned>(std::stoul(std::string(digits)));
      if (bits > max_bits) return bad();
    }
    Range r{to_bytes(a), a.is_v4() ? bits + 96 : bits};
    for (unsigned i = 0; i < 16; ++i) {  // keep only the network bits
      unsigned keep = r.prefix > 8 * i ? std::min(8u, r.prefix - 8 * i) : 0;
      r.bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> keep);
    }
    t.ranges_.push_back(r);
  }
  return t;
}

bool TrustedProxies::contains(const ip::address& a) const {
  auto bytes = to_bytes(a);
  for (const auto& r : ranges_) {
    bool match = true;
    for (unsigned i = 0; i < 16 && match; ++i) {
      unsigned keep = r.prefix > 8 * i ? std::min(8u, r.prefix - 8 * i) : 0;
      if (keep == 0) break;
      auto mask = static_cast<std::uint8_t>(0xFF00u >> keep);
      match = (bytes[i] & mask) == r.bytes[i];
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(const ip::address& peer, std::string_view peer_text,
                                           const bhttp::fields& headers) const {
  const std::string fallback(peer_text);
  if (ranges_.empty() || !contains(peer)) return fallback;
  auto field = joined(headers, rfc7239_ ? "Forwarded" : "X-Forwarded-For");
  if (!field) return fallback;
  std::vector<std::string> hops;
  if (!rfc7239_) {
    hops = split_list(*field);
  } else {
    auto values = forwarded_for_values(*field);
    if (!values) return fallback;
    hops = std::move(*values);
  }
  // Right-most first: each trusted proxy appended the address it received from.
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto a = parse_hop(*it);
    if (!a) return fallback;  // "unknown", obfuscated or garbage: the client is not known
    auto client = unmapped(*a);
    if (!contains(client) || std::next(it) == hops.rend()) return client.to_string();
  }
  return fallback;  // an empty list
}

}  // namespace stagepass::http
