// The stages of a TEACHER job after its claim (which moved it to TRAINING): teacher training on the
// alignment set, EVALUATING for the layer choice and threshold calibration, EXPORTING of the
// teacher folder and its teachers row.
#ifndef REFTUNE_SERVICES_WORKER_TEACHER_PIPELINE_H_
#define REFTUNE_SERVICES_WORKER_TEACHER_PIPELINE_H_

#include "absl/status/status.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

// Runs the job up to EXPORTING finished; the caller moves it to SUCCEEDED. Returns CANCELLED
// (see JobRun::StopStatus) when a stop was requested, and a failure status otherwise.
absl::Status RunTeacherJob(JobRun& run);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_TEACHER_PIPELINE_H_
