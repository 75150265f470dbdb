// The stages of a customer finetuning job after its claim (which moved it to SCREENING):
// SCREENING, TRAINING of a fresh student adapter on the base, EVALUATING and EXPORTING.
#ifndef REFTUNE_SERVICES_WORKER_FINETUNE_PIPELINE_H_
#define REFTUNE_SERVICES_WORKER_FINETUNE_PIPELINE_H_

#include "absl/status/status.h"
#include "services/worker/job_run.h"

namespace reftune::worker {

// Runs the job up to EXPORTING finished; the caller moves it to SUCCEEDED. Returns CANCELLED
// (see JobRun::StopStatus) when a stop was requested, and a failure status otherwise.
absl::Status RunFinetuneJob(JobRun& run);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_FINETUNE_PIPELINE_H_
