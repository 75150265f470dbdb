// What the worker that holds a job's lease reads and writes besides state changes and progress:
// events of any type (screening summary, evaluation results, messages), the teacher the job uses,
// and the stored files of datasets of any tenant (a customer job reads the operator's sets).
#ifndef REFTUNE_CORE_STORE_WORKER_JOB_STORE_H_
#define REFTUNE_CORE_STORE_WORKER_JOB_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/store/database.h"

namespace reftune::store {

// Thread-safe; `database` must outlive the store. AppendEvent and SetTeacher check in its transaction that
// `worker_id` holds the job's lease and returns FAILED_PRECONDITION otherwise, so a worker that
// lost its lease cannot write into a job another worker now runs.
class WorkerJobStore {
 public:
  explicit WorkerJobStore(Database* database) : database_(database) {}

  // Appends an event of `type` with `payload_json` (a JSON object) and returns its sequence.
  // INVALID_ARGUMENT for an empty type or a payload that is not a JSON object.
  absl::StatusOr<int64_t> AppendEvent(const std::string& job_id, const std::string& worker_id,
                                      const std::string& type, const std::string& payload_json);

  // Records the teacher a customer job uses. FAILED_PRECONDITION when the teacher is unknown.
  absl::Status SetTeacher(const std::string& job_id, const std::string& worker_id,
                          const std::string& teacher_id);

  // The storage path of a dataset of any tenant that is not deleted; NOT_FOUND otherwise.
  absl::StatusOr<std::string> DatasetStoragePath(const std::string& dataset_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_WORKER_JOB_STORE_H_
