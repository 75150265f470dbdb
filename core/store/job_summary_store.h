// Aggregate reads over jobs and their events: the newest event of each type for one job (for
// progress, screening and evaluation results) and job counts per state (for gauges).
#ifndef REFTUNE_CORE_STORE_JOB_SUMMARY_STORE_H_
#define REFTUNE_CORE_STORE_JOB_SUMMARY_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/store/database.h"

namespace reftune::store {

// Thread-safe; `database` must outlive the store.
class JobSummaryStore {
 public:
  explicit JobSummaryStore(Database* database) : database_(database) {}

  // Payload JSON of the newest event of each type in `types` for the job, by type; types without
  // an event are left out. Any tenant's job.
  absl::StatusOr<std::map<std::string, std::string>> LatestEventPayloads(
      const std::string& job_id, const std::vector<std::string>& types);

  // Jobs per stored state name; states without jobs are left out.
  absl::StatusOr<std::map<std::string, int64_t>> CountJobsByState();

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_JOB_SUMMARY_STORE_H_
