// Request and Response as handlers see them: a parsed HTTP/1.1 request plus its peer, and a
// response value. Handlers are functions Request -> awaitable<Response>; they never touch
// sockets. Plain values, not thread-safe.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stagepass::http {

namespace beast_http = boost::beast::http;

struct Request {
  beast_http::request<beast_http::string_body> msg;
  std::string remote_ip;

  std::string_view method() const { return msg.method_string(); }
  std::string_view target() const { return msg.target(); }
  // The target without the query string.
  std::string_view path() const;
  // The raw (still percent-encoded) query string, without '?'.
  std::string_view query() const;
  // The value of a header, empty when absent.
  std::string_view header(std::string_view name) const;
  const std::string& body() const { return msg.body(); }
  // Number of times a header occurs (e.g. to refuse two Authorization headers).
  size_t header_count(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For the access log only: the client this request acted for, when known.
  std::string log_client_id;

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
  static Response html(int status, std::string body);
  // 303 See Other (or another 3xx) to `location`.
  static Response redirect(std::string location, int status = 303);
};

// What the server will put on the wire. RFC 9110 §5.1: a field name is a token. §5.5: "Field
// values containing CR, LF, or NUL characters are invalid and dangerous, due to the varying
// ways that implementations might parse and interpret those characters". A response with a
// header failing either check is never sent as built (the server answers 500 instead), so no
// handler can split a response, whatever text it copies into a header.
bool valid_header_name(std::string_view name);
bool valid_header_value(std::string_view value);

}  // namespace stagepass::http
