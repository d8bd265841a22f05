#include "store/postgresql/pg_revocation_log.hpp"

#include "store/postgresql/pg_store.hpp"

namespace stagepass::postgresql {
namespace {

constexpr const char* kEntryColumns = "SELECT seq, kind, id, client_id, at FROM revocations ";

std::vector<RevocationEntry> entries(const PgResult& r) {
  std::vector<RevocationEntry> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.i64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.i64(i, 4)});
  }
  return out;
}

}  // namespace

Result<RevocationStart> revocation_start_on(PgConnection& c, int64_t since,
                                            int64_t settled_before) {
  auto r = c.prepared("revlog_start2",
                      "SELECT (SELECT MIN(seq) - 1 FROM revocations WHERE at >= $1), "
                      "COALESCE((SELECT MAX(seq) FROM revocations WHERE at < $2), 0)",
                      {std::to_string(since), std::to_string(settled_before)});
  if (!r) return fail(std::move(r.error()));
  const int64_t settled = r->i64(0, 1);
  return RevocationStart{r->is_null(0, 0) ? settled : r->i64(0, 0), settled};
}

Result<std::vector<RevocationEntry>> revocations_after_on(PgConnection& c, int64_t seq, int limit) {
  auto r = c.prepared("revlog_after",
                      std::string(kEntryColumns) + "WHERE seq > $1 ORDER BY seq LIMIT $2",
                      {std::to_string(seq), std::to_string(limit)});
  if (!r) return fail(std::move(r.error()));
  return entries(*r);
}

Result<std::vector<RevocationEntry>> revocations_in_on(PgConnection& c,
                                                       const std::vector<int64_t>& seqs) {
  std::string array = "{";
  for (size_t i = 0; i < seqs.size() && i < 1000; ++i) {
    if (i) array += ',';
    array += std::to_string(seqs[i]);
  }
  array += '}';
  auto r = c.prepared("revlog_in", std::string(kEntryColumns) + "WHERE seq = ANY($1::bigint[])",
                      {array});
  if (!r) return fail(std::move(r.error()));
  return entries(*r);
}

Result<int64_t> prune_revocations_on(PgConnection& c, int64_t before, int limit) {
  auto r = c.prepared("revlog_prune",
                      "DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations "
                      "WHERE at < $1 AND seq < (SELECT MAX(seq) FROM revocations WHERE at < $1) "
                      "ORDER BY seq LIMIT $2)",
                      {std::to_string(before), std::to_string(limit)});
  if (!r) return fail(std::move(r.error()));
  return r->affected();
}

Result<RevocationStart> PgRevocationLog::revocation_start(int64_t since, int64_t settled_before) {
  return pool_.run([&](PgConnection& c) { return revocation_start_on(c, since, settled_before); });
}

Result<std::vector<RevocationEntry>> PgRevocationLog::revocations_after(int64_t seq, int limit) {
  return pool_.run([&](PgConnection& c) { return revocations_after_on(c, seq, limit); });
}

Result<std::vector<RevocationEntry>> PgRevocationLog::revocations_in(
    const std::vector<int64_t>& seqs) {
  return pool_.run([&](PgConnection& c) { return revocations_in_on(c, seqs); });
}

// PgStore's RevocationLog and pruning: the same queries on the store's pool.
Result<RevocationStart> PgStore::revocation_start(int64_t since, int64_t settled_before) {
  return pool_.run([&](PgConnection& c) { return revocation_start_on(c, since, settled_before); });
}

Result<std::vector<RevocationEntry>> PgStore::revocations_after(int64_t seq, int limit) {
  return pool_.run([&](PgConnection& c) { return revocations_after_on(c, seq, limit); });
}

Result<std::vector<RevocationEntry>> PgStore::revocations_in(const std::vector<int64_t>& seqs) {
  return pool_.run([&](PgConnection& c) { return revocations_in_on(c, seqs); });
}

Result<int64_t> PgStore::prune_revocations(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) { return prune_revocations_on(c, before, limit); });
}

}  // namespace stagepass::postgresql
