// Plain values describing jobs and their events, as the job store reads and writes them.
#ifndef REFTUNE_CORE_STORE_JOB_RECORD_H_
#define REFTUNE_CORE_STORE_JOB_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "core/jobs/job_state.h"

namespace reftune::store {

struct JobRecord {
  std::string id;
  std::string tenant_id;
  jobs::JobKind kind = jobs::JobKind::kCustomer;
  jobs::JobState state = jobs::JobState::kQueued;
  // The job configuration JSON exactly as submitted.
  std::string config_json;
  std::string request_id;
  // Claims so far, including the running one; a released lease does not count.
  int attempt = 0;
  int max_attempts = 0;
  // Worker holding the lease, set while the job is SCREENING..EXPORTING or CANCELLING.
  std::optional<std::string> lease_owner;
  std::optional<absl::Time> lease_expires_at;
  bool cancel_requested = false;
  // Set when the state is FAILED: a stable code (e.g. "LEASE_EXPIRED") and a sentence for people.
  std::optional<std::string> failure_code;
  std::optional<std::string> failure_reason;
  // Fraction of the work done, in [0, 1].
  double progress = 0;
  std::optional<std::string> teacher_id;
  // Sequence number of the newest event of the job.
  int64_t last_event_sequence = 0;
  absl::Time created_at;
  absl::Time updated_at;
  // When the job entered QUEUED most recently, and when its current attempt was claimed: the queue
  // wait of an attempt runs from queued_at to started_at.
  absl::Time queued_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
};

struct JobEvent {
  std::string job_id;
  // 1 for the first event of a job, then increasing by 1.
  int64_t sequence = 0;
  // "STATE_CHANGED" for transitions; other types (e.g. "PROGRESS") are written by workers.
  std::string type;
  // JSON object. STATE_CHANGED carries "from", "to", "attempt" and "reason".
  std::string payload_json;
  absl::Time created_at;
};

// Event type written by every state change.
inline constexpr char kStateChangedEvent[] = "STATE_CHANGED";

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_JOB_RECORD_H_
