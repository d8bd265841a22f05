// `stagepass admin client set-mode` and `stagepass admin client allowlist ...` (issue15:devmode):
// the operator's side of development mode, through the same service as the dashboard.
#include <boost/json.hpp>
#include <iostream>

#include "app/admin.hpp"
#include "core/clock.hpp"
#include "oauth/app_access.hpp"
#include "oauth/grant_revoker.hpp"

namespace stagepass::admin {
namespace json = boost::json;

namespace {

std::string reason(const Error& e, const std::string& client_id) {
  // The store says "client not found"; the operator typed an id.
  if (e.code == ErrorCode::kNotFound && e.message == "client not found")
    return "no client " + client_id;
  return e.message;
}

// The service as this process needs it. Nothing is announced: a running server is another
// process and learns of a revocation from its revocation feed (within about a second).
// Events go straight to the store, like `client delete`'s.
struct Access {
  explicit Access(Store& store, int64_t limit)
      : record([&store](AuditEvent e) {
          if (auto r = store.record_event(e); !r) {
            std::cerr << "warning: the change was made, but its audit event was not written: "
                      << r.error().message << "\n";
          }
        }),
        revoker(store, clock, {}, record),
        service(store, store, revoker, clock, limit, record) {}
  SystemClock clock;
  oauth::AppAccess::Record record;
  oauth::GrantRevoker revoker;
  oauth::AppAccess service;
};

}  // namespace

int client_set_mode(Store& store, const std::string& client_id, const std::string& mode,
                    bool as_json) {
  auto development = oauth::parse_mode(mode);
  if (!development) return fail_line("--mode must be development or extended");
  Access access(store, 0);
  if (auto r = access.service.set_mode(client_id, *development); !r)
    return fail_line(reason(r.error(), client_id));
  if (as_json) {
    std::cout << json::serialize(json::object{{"client_id", client_id}, {"mode", mode}}) << "\n";
  } else {
    std::cout << client_id << " is in " << mode << " mode\n";
  }
  return 0;
}

int allowlist_add(Store& store, int64_t limit, const std::string& client_id,
                  const std::string& email, bool as_json) {
  Access access(store, limit);
  auto r = access.service.add(client_id, email);
  if (!r) return fail_line(reason(r.error(), client_id));
  if (as_json) {
    std::cout << json::serialize(json::object{{"client_id", client_id},
                                              {"user_id", r->entry.user_id},
                                              {"email", r->entry.email},
                                              {"added", r->added}})
              << "\n";
  } else {
    std::cout << r->entry.email << (r->added ? " added to " : " was already on ")
              << "the allowlist of " << client_id << "\n";
  }
  return 0;
}

int allowlist_remove(Store& store, int64_t limit, const std::string& client_id,
                     const std::string& email, bool as_json) {
  Access access(store, limit);
  auto r = access.service.remove(client_id, email);
  if (!r) return fail_line(reason(r.error(), client_id));
  if (as_json) {
    std::cout << json::serialize(json::object{{"client_id", client_id},
                                              {"user_id", r->user_id},
                                              {"email", r->email},
                                              {"removed", true},
                                              {"grant_revoked", r->grant_revoked}})
              << "\n";
  } else {
    std::cout << r->email << " removed from the allowlist of " << client_id
              << (r->grant_revoked ? "; the app's access was revoked" : "") << "\n";
  }
  return 0;
}

int allowlist_list(Store& store, int64_t limit, const std::string& client_id, bool as_json) {
  Access access(store, limit);
  auto development = access.service.development(client_id);
  if (!development) return fail_line(reason(development.error(), client_id));
  auto people = access.service.list(client_id);
  if (!people) return fail_line(reason(people.error(), client_id));
  if (as_json) {
    json::array arr;
    for (const auto& p : *people) {
      arr.push_back(json::object{{"user_id", p.user_id},
                                 {"email", p.email},
                                 {"display_name", p.display_name},
                                 {"added_at", p.added_at}});
    }
    std::cout << json::serialize(json::object{{"client_id", client_id},
                                              {"mode", oauth::mode_name(*development)},
                                              {"limit", limit},
                                              {"people", std::move(arr)}})
              << "\n";
  } else {
    std::cout << client_id << ": " << oauth::mode_name(*development) << " mode, " << people->size()
              << " of " << limit << " people\n";
    for (const auto& p : *people) std::cout << "  " << p.email << "  " << p.user_id << "\n";
  }
  return 0;
}

}  // namespace stagepass::admin
