#include "core/store/screening_store.h"

#include <pqxx/pqxx>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::store {
namespace {

// Rows per INSERT statement. Each statement sends four array literals, so this bounds their size.
constexpr size_t kInsertChunkRows = 2000;

std::string FormatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

}  // namespace

absl::Status ScreeningStore::ReplaceResults(const std::string& job_id,
                                            const std::vector<ScreeningResult>& results) {
  for (const ScreeningResult& result : results) {
    if (result.record_index < 0 || result.line < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "screening result of job ", job_id, " has record_index ", result.record_index,
          " and line ", result.line, "; expected record_index >= 0 and line >= 1"));
    }
  }

  return database_->Transact(
      absl::StrCat("store ", results.size(), " screening results of job ", job_id),
      [&](pqxx::work& txn) -> absl::Status {
        txn.exec_params("DELETE FROM screening_results WHERE job_id = $1", job_id);

        // The rows go in as PostgreSQL array literals and come out through unnest, which keeps
        // one statement per chunk instead of one per record.
        for (size_t begin = 0; begin < results.size(); begin += kInsertChunkRows) {
          const size_t end = std::min(results.size(), begin + kInsertChunkRows);
          std::vector<std::string> indices, lines, scores, decisions;
          for (size_t i = begin; i < end; ++i) {
            indices.push_back(absl::StrCat(results[i].record_index));
            lines.push_back(absl::StrCat(results[i].line));
            scores.push_back(FormatDouble(results[i].score));
            decisions.push_back(results[i].filtered ? "DROP" : "KEEP");
          }
          txn.exec_params(
              "INSERT INTO screening_results (job_id, record_index, line, score, decision) "
              "SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::float8[], $5::text[])",
              job_id, absl::StrCat("{", absl::StrJoin(indices, ","), "}"),
              absl::StrCat("{", absl::StrJoin(lines, ","), "}"),
              absl::StrCat("{", absl::StrJoin(scores, ","), "}"),
              absl::StrCat("{", absl::StrJoin(decisions, ","), "}"));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<ScreeningResult>> ScreeningStore::ListResults(const std::string& job_id,
                                                                         int64_t after_index,
                                                                         int64_t limit,
                                                                         bool filtered_only) {
  return database_->TransactFor<std::vector<ScreeningResult>>(
      absl::StrCat("list screening results of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<std::vector<ScreeningResult>> {
        std::vector<ScreeningResult> results;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT record_index, line, score, decision FROM screening_results "
                 "WHERE job_id = $1 AND record_index > $2 AND (NOT $3 OR decision = 'DROP') "
                 "ORDER BY record_index LIMIT $4",
                 job_id, after_index, filtered_only, limit)) {
          ScreeningResult result;
          result.record_index = row["record_index"].as<int64_t>();
          result.line = row["line"].as<int64_t>();
          result.score = row["score"].as<double>();
          result.filtered = row["decision"].as<std::string>() == "DROP";
          results.push_back(result);
        }
        return results;
      });
}

absl::StatusOr<ScreeningCounts> ScreeningStore::CountResults(const std::string& job_id) {
  return database_->TransactFor<ScreeningCounts>(
      absl::StrCat("count screening results of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<ScreeningCounts> {
        pqxx::row row = txn.exec_params1(
            "SELECT count(*), count(*) FILTER (WHERE decision = 'DROP') "
            "FROM screening_results WHERE job_id = $1",
            job_id);
        ScreeningCounts counts;
        counts.screened = row[0].as<int64_t>();
        counts.filtered = row[1].as<int64_t>();
        return counts;
      });
}

}  // namespace reftune::store
