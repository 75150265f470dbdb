// One claimed job while a worker runs it: the shared services, the lease flags, the wall-time
// deadline, and the writes every stage makes (state changes, events, progress).
#ifndef REFTUNE_SERVICES_WORKER_JOB_RUN_H_
#define REFTUNE_SERVICES_WORKER_JOB_RUN_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/artifacts/artifact_store.h"
#include "core/jobs/job_queue.h"
#include "core/metrics/metrics.h"
#include "core/store/base_model_store.h"
#include "core/store/checkpoint_store.h"
#include "core/store/job_store.h"
#include "core/store/screening_store.h"
#include "core/store/teacher_store.h"
#include "core/store/worker_job_store.h"
#include "nlohmann/json.hpp"
#include "services/worker/base_model_cache.h"
#include "services/worker/lease_keeper.h"
#include "services/worker/prompt_scorer.h"

namespace reftune::worker {

// Everything a job's stages use that outlives the job. Pointers are not owned; `metrics` may be
// null.
struct WorkerServices {
  store::JobStore* jobs = nullptr;
  jobs::JobQueue* queue = nullptr;
  store::WorkerJobStore* worker_jobs = nullptr;
  store::CheckpointStore* checkpoints = nullptr;
  store::ScreeningStore* screening = nullptr;
  store::BaseModelStore* base_models = nullptr;
  store::TeacherStore* teachers = nullptr;
  const artifacts::ArtifactStore* artifacts = nullptr;
  BaseModelCache* models = nullptr;
  PromptScorer* scorer = nullptr;
  metrics::Metrics* metrics = nullptr;
};

// Settings of the stages that the worker's flags control.
struct StageOptions {
  // Replaces the job's checkpoint_interval_steps when > 0.
  int64_t checkpoint_interval_override_steps = 0;
  // A PROGRESS event every this many training steps (the last step always gets one).
  int64_t progress_every_steps = 5;
  // Prompts per filter-service request during SCREENING.
  int screening_batch_size = 256;
  // Deadline of the whole SCREENING call to the filter service.
  absl::Duration screening_deadline = absl::Minutes(30);
  // Harmful-evaluation prompts answered at most; 0 answers all of them.
  int64_t max_harmful_eval_prompts = 0;
  // New tokens per generated evaluation answer.
  int64_t eval_max_new_tokens = 48;
};

// Why a job must stop before it finishes.
enum class StopReason {
  kNone,
  // A customer or operator cancelled the job.
  kCancelled,
  // Another worker may hold the job now: stop without writing anything.
  kLeaseLost,
  // SIGTERM or SIGINT: checkpoint, give the lease back and exit.
  kShutdown,
  // The job's wall-time limit passed.
  kDeadline,
};

// Not thread-safe except CheckStop, which the training thread calls while the heartbeat thread
// sets the flags it reads.
class JobRun {
 public:
  JobRun(const WorkerServices& services, StageOptions options, store::JobRecord job,
         std::string worker_id, const LeaseKeeper* lease, const std::atomic<bool>* shutdown,
         absl::Time deadline)
      : services_(services),
        options_(options),
        job_(std::move(job)),
        worker_id_(std::move(worker_id)),
        lease_(lease),
        shutdown_(shutdown),
        deadline_(deadline) {}

  // The first reason found, in the order lease lost, cancelled, shutdown, deadline.
  StopReason CheckStop() const;
  // CANCELLED naming the reason and `where`, for a stage to return when CheckStop is not kNone.
  absl::Status StopStatus(StopReason reason, const std::string& where) const;

  // Moves the job to `to` (the worker must hold the lease); the job record follows.
  absl::Status Transition(jobs::JobState to, const std::string& reason);
  // Appends an event of `type` with a JSON object payload.
  absl::Status AppendEvent(const std::string& type, const nlohmann::json& payload);
  // Appends a MESSAGE event {"message": text, ...extra}.
  absl::Status AppendMessage(const std::string& text,
                             nlohmann::json extra = nlohmann::json::object());
  // Records progress in [0, 1] and a PROGRESS event with `payload`.
  absl::Status RecordProgress(double progress, const nlohmann::json& payload);

  // <artifact root>/jobs/<job id>, created on demand.
  absl::StatusOr<std::string> JobFolder() const;

  const WorkerServices& services() const { return services_; }
  const StageOptions& options() const { return options_; }
  const store::JobRecord& job() const { return job_; }
  const std::string& worker_id() const { return worker_id_; }
  absl::Time deadline() const { return deadline_; }

 private:
  WorkerServices services_;
  StageOptions options_;
  store::JobRecord job_;
  std::string worker_id_;
  const LeaseKeeper* lease_;
  const std::atomic<bool>* shutdown_;
  absl::Time deadline_;
};

absl::string_view StopReasonName(StopReason reason);

// Event types the worker writes; their payloads use the proto field names of the named message.
// reftune.v1.ScreeningSummary.
inline constexpr char kScreeningSummaryEvent[] = "SCREENING_SUMMARY";
// reftune.v1.EvaluationResults.
inline constexpr char kEvaluationEvent[] = "EVALUATION";
// {"message": text, ...}; a resume adds "resume_step".
inline constexpr char kMessageEvent[] = "MESSAGE";
// {"files": [reftune.v1.ArtifactFile, ...], "folder": path} once the adapter is exported.
inline constexpr char kArtifactsEvent[] = "ARTIFACTS";

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_JOB_RUN_H_
