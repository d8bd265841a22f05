// App registration on the developer dashboard: what a person may type into the "create an
// app" and "edit" forms, checked field by field, so each field gets its own message and the
// form can be shown again with what was typed.
//
// Rules (each bounded, so a form can never make the store or a page large):
//  - name: 1-100 characters of UTF-8 text, no control characters (trimmed).
//  - description: at most 500 characters, UTF-8, line breaks allowed (CR LF becomes LF).
//  - redirect URIs: one per line, 1-20 of them, each as oauth/redirect_uri.hpp rules
//    (Spotify's since 2025): https, or http only on the loopback IP literals 127.0.0.1 and
//    [::1] (never "localhost"), or a private-use reverse-domain scheme. A loopback URI
//    registered without a port matches any port; every other URI matches exactly.
//  - web origins (CORS for browser apps): one per line, at most 20, each an origin as a
//    browser sends it (scheme://host[:port], no path, no default port), under the redirect
//    URIs' host rules; stored lower case.
//  - scopes: any subset of the known scopes (domain/scope.hpp); none is allowed (an app that
//    only reads public data or uses client credentials).
//  - type: "confidential" (has a secret; for a backend) or "public" (no secret; PKCE only).
// Pure functions; thread safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/text.hpp"
#include "domain/scope.hpp"

namespace stagepass::web {

constexpr size_t kMaxAppNameChars = 100;
constexpr size_t kMaxAppDescriptionChars = 500;
constexpr size_t kMaxRedirectUris = 20;
constexpr size_t kMaxWebOrigins = 20;
constexpr size_t kMaxWebOriginBytes = 300;

// The form as posted: text fields as typed, the scope boxes that were ticked.
struct AppFormInput {
  std::string name;
  std::string description;
  std::string redirect_uris;  // one per line
  std::string web_origins;    // one per line
  std::vector<std::string> scopes;
  std::string type;  // "confidential" or "public"
};

// One message per field; empty when the field is fine.
struct AppFormErrors {
  std::string name;
  std::string description;
  std::string redirect_uris;
  std::string web_origins;
  std::string scopes;
  std::string type;
  bool any() const {
    return !name.empty() || !description.empty() || !redirect_uris.empty() ||
           !web_origins.empty() || !scopes.empty() || !type.empty();
  }
};

// A valid form, normalised (trimmed, duplicates dropped, origins lower case).
struct AppSettings {
  std::string name;
  std::string description;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> web_origins;
  ScopeSet scopes;
  bool is_public = false;
};

// The form's fields: name, description, redirect_uris, web_origins, type, and one checkbox
// "scope:<name>" per ticked scope (the pages' forms carry no repeated field names).
AppFormInput app_form_input(const Form& form);
// The settings, or every field's problem at once.
Result<AppSettings, AppFormErrors> validate_app_form(const AppFormInput& in);

// nullopt when `origin` may be registered; otherwise why not.
std::optional<std::string> web_origin_problem(std::string_view origin);

}  // namespace stagepass::web
