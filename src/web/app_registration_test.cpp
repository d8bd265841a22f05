// The developer dashboard's app form rules: each field checked on its own, with its own
// message, and the redirect-URI rules of Spotify since 2025.
#include "web/app_registration.hpp"

#include <gtest/gtest.h>

namespace stagepass::web {
namespace {

AppFormInput valid_input() {
  AppFormInput in;
  in.name = "Mixtape Studio";
  in.description = "Makes mixtapes.";
  in.redirect_uris = "https://mixtape.example/callback";
  in.type = "confidential";
  in.scopes = {"user-read-email", "playlist-modify-private"};
  return in;
}

AppFormErrors errors_of(const AppFormInput& in) {
  auto r = validate_app_form(in);
  EXPECT_FALSE(r.ok()) << "expected the form to be refused";
  return r.ok() ? AppFormErrors{} : r.error();
}

TEST(AppRegistration, AcceptsAValidFormAndNormalisesIt) {
  AppFormInput in = valid_input();
  in.name = "  Mixtape Studio \t";
  in.description = "Line one\r\nLine two";
  in.redirect_uris =
      "https://mixtape.example/callback\r\n\n  http://127.0.0.1/cb  \nhttps://mixtape.example/"
      "callback\nhttp://[::1]:8888/cb\ncom.example.mixtape:/oauth\n";
  in.web_origins = "HTTPS://Mixtape.Example\nhttp://127.0.0.1:5173";
  auto r = validate_app_form(in);
  ASSERT_TRUE(r.ok()) << r.error().redirect_uris << r.error().web_origins;
  EXPECT_EQ(r->name, "Mixtape Studio");
  EXPECT_EQ(r->description, "Line one\nLine two");
  EXPECT_EQ(r->redirect_uris,
            (std::vector<std::string>{"https://mixtape.example/callback", "http://127.0.0.1/cb",
                                      "http://[::1]:8888/cb", "com.example.mixtape:/oauth"}));
  EXPECT_EQ(r->web_origins,
            (std::vector<std::string>{"https://mixtape.example", "http://127.0.0.1:5173"}));
  EXPECT_EQ(r->scopes.str(), "playlist-modify-private user-read-email");
  EXPECT_FALSE(r->is_public);
}

TEST(AppRegistration, RedirectUrisFollowSpotifysRules) {
  // Spotify (2025): https, or a loopback IP literal over http; never localhost.
  for (const char* bad :
       {"http://localhost/cb", "http://localhost:8888/callback", "https://localhost/cb",
        "http://app.example/cb", "http://10.0.0.5/cb", "https://app.example/cb#frag", "/relative",
        "myapp:/cb", "https://user@app.example/cb"}) {
    AppFormInput in = valid_input();
    in.redirect_uris = bad;
    AppFormErrors e = errors_of(in);
    EXPECT_NE(e.redirect_uris.find(bad), std::string::npos) << bad << ": " << e.redirect_uris;
    EXPECT_TRUE(e.name.empty() && e.web_origins.empty() && e.scopes.empty()) << bad;
  }
  AppFormInput in = valid_input();
  in.redirect_uris = "http://localhost/cb";
  EXPECT_NE(errors_of(in).redirect_uris.find("localhost is not allowed"), std::string::npos);
}

TEST(AppRegistration, EveryBadRedirectUriIsNamedUpToThree) {
  AppFormInput in = valid_input();
  in.redirect_uris = "https://ok.example/cb\nhttp://localhost/a\nhttp://app.example/b";
  std::string e = errors_of(in).redirect_uris;
  EXPECT_NE(e.find("http://localhost/a"), std::string::npos) << e;
  EXPECT_NE(e.find("http://app.example/b"), std::string::npos) << e;
  EXPECT_EQ(e.find("ok.example"), std::string::npos) << e;
}

TEST(AppRegistration, NeedsOneToTwentyRedirectUris) {
  AppFormInput in = valid_input();
  in.redirect_uris = " \n\r\n";
  EXPECT_EQ(errors_of(in).redirect_uris, "Add at least one redirect URI.");
  in.redirect_uris.clear();
  for (int i = 0; i < 21; ++i) in.redirect_uris += "https://a.example/" + std::to_string(i) + "\n";
  EXPECT_NE(errors_of(in).redirect_uris.find("At most 20"), std::string::npos);
  in.redirect_uris.clear();
  for (int i = 0; i < 20; ++i) in.redirect_uris += "https://a.example/" + std::to_string(i) + "\n";
  EXPECT_TRUE(validate_app_form(in).ok());
}

TEST(AppRegistration, NameAndDescriptionAreBoundedText) {
  AppFormInput in = valid_input();
  in.name = "   ";
  EXPECT_EQ(errors_of(in).name, "Give the app a name.");
  in.name = std::string(101, 'a');
  EXPECT_EQ(errors_of(in).name, "At most 100 characters.");
  // Characters, not bytes: 100 two-byte characters are fine.
  in.name.clear();
  for (int i = 0; i < 100; ++i) in.name += "é";
  EXPECT_TRUE(validate_app_form(in).ok());
  for (const std::string& bad :
       {std::string("a\x01z"), std::string("tab\there"), std::string("bad \xff byte"),
        std::string("over\xc0\xafong"), std::string("cut \xe2\x82"), std::string("c1 \xc2\x85")}) {
    in.name = bad;
    EXPECT_FALSE(errors_of(in).name.empty()) << bad;
  }
  in = valid_input();
  in.description = std::string(501, 'x');
  EXPECT_EQ(errors_of(in).description, "At most 500 characters.");
  in.description = "tabs\tand\nlines are fine";
  EXPECT_TRUE(validate_app_form(in).ok());
  in.description = "no \x1b escapes";
  EXPECT_FALSE(errors_of(in).description.empty());
}

TEST(AppRegistration, WebOriginsAreOriginsOnly) {
  for (const char* bad :
       {"https://app.example/", "https://app.example/path", "https://app.example?q",
        "ftp://app.example", "app.example", "http://app.example", "http://localhost:3000",
        "https://app.example:443", "http://127.0.0.1:80", "https://user@app.example"}) {
    EXPECT_TRUE(web_origin_problem(bad)) << bad;
    AppFormInput in = valid_input();
    in.web_origins = bad;
    EXPECT_NE(errors_of(in).web_origins.find(bad), std::string::npos) << bad;
  }
  for (const char* good : {"https://app.example", "https://app.example:8443",
                           "http://127.0.0.1:5173", "http://[::1]:3000"}) {
    EXPECT_FALSE(web_origin_problem(good)) << good;
  }
  AppFormInput in = valid_input();
  for (int i = 0; i < 21; ++i) in.web_origins += "https://o" + std::to_string(i) + ".example\n";
  EXPECT_NE(errors_of(in).web_origins.find("At most 20"), std::string::npos);
}

TEST(AppRegistration, ScopesMustBeKnownAndMayBeNone) {
  AppFormInput in = valid_input();
  in.scopes = {};
  auto r = validate_app_form(in);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->scopes.empty());
  in.scopes = {"user-read-email", "admin-everything"};
  EXPECT_NE(errors_of(in).scopes.find("admin-everything"), std::string::npos);
}

TEST(AppRegistration, TypeIsConfidentialOrPublic) {
  AppFormInput in = valid_input();
  in.type = "public";
  auto r = validate_app_form(in);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_public);
  for (const char* bad : {"", "Public", "trusted"}) {
    in.type = bad;
    EXPECT_FALSE(errors_of(in).type.empty()) << bad;
  }
}

TEST(AppRegistration, AllProblemsAreReportedTogether) {
  AppFormInput in;
  in.redirect_uris = "http://localhost/cb";
  in.web_origins = "https://app.example/x";
  in.scopes = {"nope"};
  AppFormErrors e = errors_of(in);
  EXPECT_FALSE(e.name.empty());
  EXPECT_FALSE(e.redirect_uris.empty());
  EXPECT_FALSE(e.web_origins.empty());
  EXPECT_FALSE(e.scopes.empty());
  EXPECT_FALSE(e.type.empty());
  EXPECT_TRUE(e.description.empty());
}

TEST(AppRegistration, ReadsTheFormsFieldsAndTickedScopes) {
  auto form = Form::parse(
      "name=A&description=B&redirect_uris=https%3A%2F%2Fa.example%2Fcb&web_origins=&type=public"
      "&scope%3Auser-read-email=on&scope%3Astreaming=on&scope%3Auser-top-read=&csrf_token=x");
  ASSERT_TRUE(form);
  AppFormInput in = app_form_input(*form);
  EXPECT_EQ(in.name, "A");
  EXPECT_EQ(in.description, "B");
  EXPECT_EQ(in.redirect_uris, "https://a.example/cb");
  EXPECT_EQ(in.type, "public");
  EXPECT_EQ(in.scopes, (std::vector<std::string>{"user-read-email", "streaming"}));
}

}  // namespace
}  // namespace stagepass::web
