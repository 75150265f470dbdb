// The stored configuration of a job, read back from the JSON the gateway wrote at creation: the
// request message's fields under their proto names (snake_case or lowerCamelCase), with
// "hyperparameters" (customer jobs) or "settings" (teacher jobs) in proto JSON form.
#ifndef REFTUNE_SERVICES_WORKER_JOB_CONFIG_H_
#define REFTUNE_SERVICES_WORKER_JOB_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/method/finetune_mode.h"
#include "reftune/v1/jobs.pb.h"
#include "reftune/v1/operator_service.pb.h"

namespace reftune::worker {

struct FinetuneJobConfig {
  std::string dataset_id;
  // Empty when the job has no validation dataset.
  std::string validation_dataset_id;
  std::string base_model;
  method::FinetuneMode mode = method::FinetuneMode::kRefTeacher;
  // Overrides the teacher's calibrated threshold when set.
  std::optional<double> filter_threshold;
  // 0 in the request means 1.
  uint64_t seed = 1;
  std::string suffix;
  // 0 means no limit of the job's own; the worker's default applies.
  int64_t wall_time_limit_seconds = 0;
  // As stored; unset fields take the defaults documented in jobs.proto (see the accessors of
  // FinetuneSettings in finetune_settings.h).
  v1::Hyperparameters hyperparameters;
  // 1-based lines the gateway chose to skip as overlong (OVERLONG_RECORDS_SKIP), from the
  // optional "skipped_lines" array.
  std::vector<int64_t> skipped_lines;
};

struct TeacherJobConfig {
  std::string base_model;
  std::string alignment_dataset_id;
  // Empty when none; customer jobs of the teacher then have no harmful score.
  std::string harmful_eval_dataset_id;
  v1::TeacherSettings settings;
  uint64_t seed = 1;
  int64_t wall_time_limit_seconds = 0;
};

// INVALID_ARGUMENT, tagged INVALID_DATA, names the key and the value that cannot be used.
absl::StatusOr<FinetuneJobConfig> ParseFinetuneJobConfig(const std::string& config_json);
absl::StatusOr<TeacherJobConfig> ParseTeacherJobConfig(const std::string& config_json);

// The "wall_time_limit_seconds" of either kind of config; 0 when unset or unreadable.
int64_t WallTimeLimitSeconds(const std::string& config_json);

// Lowercase hex SHA-256 of the config with its keys sorted, so that equal configs hash alike
// whatever their key order. Checkpoints record it; a resume under another hash is refused.
absl::StatusOr<std::string> CanonicalConfigHash(const std::string& config_json);

}  // namespace reftune::worker

#endif  // REFTUNE_SERVICES_WORKER_JOB_CONFIG_H_
