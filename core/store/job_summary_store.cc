#include "core/store/job_summary_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reftune::store {

absl::StatusOr<std::map<std::string, std::string>> JobSummaryStore::LatestEventPayloads(
    const std::string& job_id, const std::vector<std::string>& types) {
  using Payloads = std::map<std::string, std::string>;
  if (types.empty()) return Payloads();
  return database_->TransactFor<Payloads>(
      absl::StrCat("read the newest events of job ", job_id),
      [&](pqxx::work& txn) -> absl::StatusOr<Payloads> {
        std::vector<std::string> quoted;
        for (const std::string& type : types) quoted.push_back(txn.quote(type));
        Payloads payloads;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT DISTINCT ON (type) type, payload::text FROM job_events "
                 "WHERE job_id = $1 AND type IN (" + absl::StrJoin(quoted, ", ") +
                     ") ORDER BY type, sequence DESC",
                 job_id)) {
          payloads[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        return payloads;
      });
}

absl::StatusOr<std::map<std::string, int64_t>> JobSummaryStore::CountJobsByState() {
  using Counts = std::map<std::string, int64_t>;
  return database_->TransactFor<Counts>(
      "count jobs by state", [&](pqxx::work& txn) -> absl::StatusOr<Counts> {
        Counts counts;
        for (const pqxx::row& row :
             txn.exec("SELECT state, count(*) FROM jobs GROUP BY state")) {
          counts[row[0].as<std::string>()] = row[1].as<int64_t>();
        }
        return counts;
      });
}

}  // namespace reftune::store
