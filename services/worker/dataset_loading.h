// Reading a job's datasets from the artifact store as records.
#ifndef REFTUNE_SERVICES_WORKER_DATASET_LOADING_H_
#define REFTUNE_SERVICES_WORKER_DATASET_LOADING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/record.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

// Records of the dataset `dataset_id` (any tenant's). MISSING_MODEL when the dataset or its file
// is gone, INVALID_DATA when the file has invalid records; `role` ("training dataset", ...)
// names the dataset in messages. `require_response` false accepts prompt-only records.
absl::StatusOr<std::vector<data::Record>> LoadDatasetRecords(JobRun& run,
                                                             const std::string& dataset_id,
                                                             const std::string& role,
                                                             bool require_response = true);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_DATASET_LOADING_H_
