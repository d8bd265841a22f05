#include "store/postgresql/pg_connection.hpp"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace stagepass::postgresql {
namespace {

std::string trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// Parameters as libpq wants them: NULL pointers for SQL NULL.
std::vector<const char*> values_of(const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

// The URL's own `options` (if any) followed by `extra`: a later -c of a setting wins.
std::string with_url_options(const std::string& url, const std::string& extra) {
  if (extra.empty()) return "";
  std::string out;
  if (PQconninfoOption* parsed = PQconninfoParse(url.c_str(), nullptr)) {
    for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "options") == 0 && o->val != nullptr && *o->val != '\0') {
        out = std::string(o->val) + ' ';
      }
    }
    PQconninfoFree(parsed);
  }
  return out + extra;
}

// Callers log connection errors; libpq's may quote the URL or a password. A URL libpq cannot
// parse gets a fixed message. Otherwise every spelling of the password is replaced wherever
// it appears: the one libpq parsed (userinfo, ?password=, key=value), and the userinfo's text
// after the first ':' up to the last '@' with each of its pieces between '/', '?' and '#'
// (an unencoded '/' in a password makes libpq read a piece of it as a host or port).
std::string without_password(std::string message, const std::string& url) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (options == nullptr) {
    PQfreemem(parse_error);
    return "the database URL (STAGEPASS_DATABASE) could not be parsed";
  }
  std::vector<std::string> secrets;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) secrets.push_back(o->val);
  }
  PQconninfoFree(options);
  if (const size_t scheme = url.find("://"); scheme != std::string::npos) {
    const size_t at = url.rfind('@');
    const size_t colon = url.find(':', scheme + 3);
    if (at != std::string::npos && at > scheme && colon < at) {
      const std::string userinfo_password = url.substr(colon + 1, at - colon - 1);
      secrets.push_back(userinfo_password);
      size_t start = 0;
      for (;;) {
        const size_t cut = userinfo_password.find_first_of("/?#", start);
        secrets.push_back(userinfo_password.substr(start, cut - start));
        if (cut == std::string::npos) break;
        start = cut + 1;
      }
    }
  }
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t i = message.find(secret); i != std::string::npos; i = message.find(secret, i)) {
      message.replace(i, secret.size(), "***");
      i += 3;
    }
  }
  return message;
}

}  // namespace

int64_t PgResult::i64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(const std::string& url,
                                                            const std::string& dbname,
                                                            const std::string& session_options) {
  // expand_dbname = 1: the first "dbname" is the URL, whose keywords override those before it
  // (connect_timeout); a second one only names the database.
  const std::string timeout = std::to_string(kConnectTimeoutSeconds);
  const std::string options = with_url_options(url, session_options);
  std::vector<const char*> keys = {"connect_timeout", "dbname"};
  std::vector<const char*> values = {timeout.c_str(), url.c_str()};
  if (!options.empty()) keys.push_back("options"), values.push_back(options.c_str());
  if (!dbname.empty()) keys.push_back("dbname"), values.push_back(dbname.c_str());
  keys.push_back(nullptr), values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) return fail(Error{ErrorCode::kIo, "postgresql: out of memory"});
  if (PQstatus(conn) != CONNECTION_OK) {
    Error e{ErrorCode::kIo,
            "postgresql: cannot connect: " + without_password(trimmed(PQerrorMessage(conn)), url)};
    PQfinish(conn);
    return fail(std::move(e));
  }
  // libpq prints the server's notices (e.g. "relation ... already exists, skipping") on
  // standard error; the admin CLI's standard error is one clear line, and the server's log
  // is JSON. Nothing a notice says is needed: they are dropped.
  PQsetNoticeReceiver(
      conn, [](void*, const PGresult*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return !given_up_ && PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::lost_while_idle() {
  if (!healthy()) return true;
  // An idle session of the pool is sent nothing (it LISTENs to no channel and sets nothing):
  // anything readable is the server's goodbye (a FATAL message, end-of-file) or at best a
  // stray notice. Either way the connection is dropped; a new one costs one connect.
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return p.fd < 0 || ::poll(&p, 1, 0) != 0;
}

Result<PgResult> PgConnection::check(PGresult* r) {
  PgResult result(r);
  const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  // SQLSTATE class 23: integrity constraint violation (unique, foreign key, check).
  if (state != nullptr && std::strncmp(state, "23", 2) == 0) {
    return fail(Error{ErrorCode::kConflict, "postgresql: " + message});
  }
  return fail(Error{ErrorCode::kIo, "postgresql: " + message});
}

Result<PgResult> PgConnection::answer(int sent) {
  if (!sent) return check(nullptr);  // not even sent: the connection is broken
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + answer_timeout_;
  PGresult* last = nullptr;
  for (;;) {
    while (PQisBusy(conn_)) {
      int wait_ms = -1;
      if (answer_timeout_.count() > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
          PQclear(last);
          given_up_ = true;
          return fail(Error{ErrorCode::kIo, "postgresql: no answer within " +
                                                std::to_string(answer_timeout_.count()) +
                                                " ms; the connection is given up"});
        }
        wait_ms = static_cast<int>(left);
      }
      pollfd p{PQsocket(conn_), POLLIN, 0};
      const int n = ::poll(&p, 1, wait_ms);
      if (n < 0 && errno == EINTR) continue;
      // Readable (or the socket failed): read what came; a broken connection ends the wait,
      // and PQgetResult below reports it.
      if (n != 0 && !PQconsumeInput(conn_)) break;
    }
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) break;
    // As PQexec: the last result, except that an error is kept over what follows it.
    if (last != nullptr && PQresultStatus(last) == PGRES_FATAL_ERROR) {
      PQclear(r);
    } else {
      PQclear(last);
      last = r;
    }
    if (PQstatus(conn_) == CONNECTION_BAD) break;
  }
  return check(last);
}

Status<> PgConnection::exec(std::string_view sql) {
  if (given_up_) return fail(Error{ErrorCode::kIo, "postgresql: the connection was given up"});
  auto r = answer(PQsendQuery(conn_, std::string(sql).c_str()));
  if (!r) return fail(std::move(r.error()));
  return Ok{};
}

Result<PgResult> PgConnection::query(const std::string& sql, const std::vector<PgParam>& params) {
  if (given_up_) return fail(Error{ErrorCode::kIo, "postgresql: the connection was given up"});
  const auto values = values_of(params);
  return answer(PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
}

Result<PgResult> PgConnection::prepared(const std::string& name, const std::string& sql,
                                        const std::vector<PgParam>& params) {
  if (given_up_) return fail(Error{ErrorCode::kIo, "postgresql: the connection was given up"});
  if (!prepared_.count(name)) {
    auto p = answer(PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (!p) return fail(std::move(p.error()));
    prepared_.insert(name);
  }
  const auto values = values_of(params);
  return answer(PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, 0));
}

}  // namespace stagepass::postgresql
