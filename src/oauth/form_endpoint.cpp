#include "oauth/form_endpoint.hpp"

namespace stagepass::oauth {

Result<Form, OAuthError> parse_form_body(std::string_view content_type, std::string_view body) {
  // RFC 6749 §3.2: "application/x-www-form-urlencoded" format.
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!iequals(media, "application/x-www-form-urlencoded")) {
    return fail(OAuthError::invalid_request("body must be application/x-www-form-urlencoded"));
  }
  auto form = Form::parse(body);
  if (!form) return fail(OAuthError::invalid_request("malformed form body"));
  // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
  if (auto dup = form->duplicate()) {
    return fail(OAuthError::invalid_request("parameter repeated: " + quote_input(*dup)));
  }
  return std::move(*form);
}

}  // namespace stagepass::oauth
