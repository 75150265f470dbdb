// Per-record filter decisions of a job's SCREENING stage (the screening_results table).
#ifndef REFTUNE_CORE_STORE_SCREENING_STORE_H_
#define REFTUNE_CORE_STORE_SCREENING_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/store/database.h"

namespace reftune::store {

struct ScreeningResult {
  // 0-based index of the record in the dataset.
  int64_t record_index = 0;
  // 1-based line of the record in the uploaded file.
  int64_t line = 1;
  // Cosine similarity of the prompt's feature with the refusal feature, in [-1, 1].
  double score = 0;
  // True when the filter removed the record from training (stored as decision 'DROP').
  bool filtered = false;
};

struct ScreeningCounts {
  int64_t screened = 0;
  int64_t filtered = 0;
};

// Thread-safe; `database` must outlive the store.
class ScreeningStore {
 public:
  explicit ScreeningStore(Database* database) : database_(database) {}

  // Replaces every stored result of the job with `results` in one transaction, so a job screened
  // again after a requeue never mixes two runs. INVALID_ARGUMENT names the first result with a
  // negative index or a line below 1; FAILED_PRECONDITION when the job does not exist.
  absl::Status ReplaceResults(const std::string& job_id,
                              const std::vector<ScreeningResult>& results);

  // Up to `limit` results with record_index > after_index, by record_index; only filtered ones
  // when `filtered_only`. Pass after_index = -1 to start at the first record.
  absl::StatusOr<std::vector<ScreeningResult>> ListResults(const std::string& job_id,
                                                           int64_t after_index, int64_t limit,
                                                           bool filtered_only);

  absl::StatusOr<ScreeningCounts> CountResults(const std::string& job_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_SCREENING_STORE_H_
