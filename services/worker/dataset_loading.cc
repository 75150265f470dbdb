#include "services/worker/dataset_loading.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"
#include "services/worker/job_failure.h"

namespace reftune::worker {

absl::StatusOr<std::vector<data::Record>> LoadDatasetRecords(JobRun& run,
                                                             const std::string& dataset_id,
                                                             const std::string& role,
                                                             bool require_response) {
  absl::StatusOr<std::string> path = run.services().worker_jobs->DatasetStoragePath(dataset_id);
  if (!path.ok()) {
    if (path.status().code() == absl::StatusCode::kNotFound) {
      return MissingModelError(absl::StrCat(role, " ", dataset_id, " not found"));
    }
    return path.status();
  }
  if (!std::filesystem::exists(*path)) {
    return MissingModelError(
        absl::StrCat("file of ", role, " ", dataset_id, " is missing: ", *path));
  }
  data::RecordParseOptions options;
  options.require_response = require_response;
  absl::StatusOr<std::vector<data::Record>> records = data::ReadRecordsFile(*path, options);
  if (!records.ok()) {
    return InvalidDataError(
        absl::StrCat(role, " ", dataset_id, " is invalid: ", records.status().message()));
  }
  if (records->empty()) {
    return InvalidDataError(absl::StrCat(role, " ", dataset_id, " has no records"));
  }
  return records;
}

}  // namespace reftune::worker
