// Authorization server metadata (RFC 8414), served at /.well-known/oauth-authorization-server
// and /.well-known/openid-configuration. Computed once at startup.
#pragma once

#include <string>
#include <vector>

#include "oauth/services.hpp"

namespace stagepass::oauth {

std::string metadata_json(const OAuthSettings& settings, const std::vector<std::string>& grants);

}  // namespace stagepass::oauth
