// The SCREENING stage of a finetuning job: every training prompt scored against the teacher's
// refusal feature, the per-record decisions stored, and a summary event.
#ifndef REFTUNE_SERVICES_WORKER_SCREENING_STAGE_H_
#define REFTUNE_SERVICES_WORKER_SCREENING_STAGE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/record.h"
#include "core/store/teacher_store.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

struct ScreeningOutcome {
  // One flag per record, in order: true when the filter removed it.
  std::vector<bool> filtered;
  int64_t filtered_count = 0;
  double threshold = 0;
  int layer = 0;
};

// Scores `records` through the run's PromptScorer with `teacher`, replaces the job's
// screening_results rows and appends a SCREENING_SUMMARY event (records_screened,
// records_filtered, threshold, layer). DEADLINE_EXCEEDED after the stage's deadline.
absl::StatusOr<ScreeningOutcome> ScreenRecords(JobRun& run, const store::TeacherRecord& teacher,
                                               const std::vector<data::Record>& records,
                                               std::optional<double> threshold);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_SCREENING_STAGE_H_
