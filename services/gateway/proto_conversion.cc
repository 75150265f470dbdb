#include "services/gateway/proto_conversion.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace reftune::gateway {
namespace {

using JsonObject = nlohmann::json;

// Parses a stored JSON object; a payload that is not one becomes an empty object, because the
// reader can show a job without it.
JsonObject ParseObject(const std::string& text) {
  JsonObject parsed = JsonObject::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() ? parsed : JsonObject::object();
}

// Fills `message` from the JSON object `text` written with proto field names, skipping unknown
// keys (workers may add fields before the API has them).
void MergeJson(const std::string& text, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  // A malformed payload leaves the message as parsed so far, which the reader tolerates.
  (void)google::protobuf::util::JsonStringToMessage(text, message, options);
}

void FillConfigFields(const JsonObject& config, v1::Job* job) {
  job->set_dataset_id(config.value("dataset_id", ""));
  job->set_validation_dataset_id(config.value("validation_dataset_id", ""));
  job->set_base_model(config.value("base_model", ""));
  job->set_safety_mode(SafetyModeFromName(config.value("safety_mode", "")));
  if (config.contains("hyperparameters") && config["hyperparameters"].is_object()) {
    MergeJson(config["hyperparameters"].dump(), job->mutable_hyperparameters());
  }
  if (config.contains("filter_threshold") && config["filter_threshold"].is_number()) {
    job->set_filter_threshold(config["filter_threshold"].get<double>());
  }
  job->set_seed(config.value("seed", uint64_t{0}));
  job->set_suffix(config.value("suffix", ""));
  job->set_wall_time_limit_seconds(config.value("wall_time_limit_seconds", int64_t{0}));
}

}  // namespace

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp) {
  const int64_t micros = absl::ToUnixMicros(time);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(rest * 1000));
}

v1::JobState JobStateToProto(jobs::JobState state) {
  switch (state) {
    case jobs::JobState::kQueued: return v1::JOB_STATE_QUEUED;
    case jobs::JobState::kScreening: return v1::JOB_STATE_SCREENING;
    case jobs::JobState::kTraining: return v1::JOB_STATE_TRAINING;
    case jobs::JobState::kEvaluating: return v1::JOB_STATE_EVALUATING;
    case jobs::JobState::kExporting: return v1::JOB_STATE_EXPORTING;
    case jobs::JobState::kSucceeded: return v1::JOB_STATE_SUCCEEDED;
    case jobs::JobState::kFailed: return v1::JOB_STATE_FAILED;
    case jobs::JobState::kCancelled: return v1::JOB_STATE_CANCELLED;
    case jobs::JobState::kCancelling: return v1::JOB_STATE_CANCELLING;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

absl::StatusOr<jobs::JobState> JobStateFromProto(v1::JobState state) {
  if (state == v1::JOB_STATE_UNSPECIFIED || !v1::JobState_IsValid(state)) {
    return absl::InvalidArgumentError(absl::StrCat("job state ", static_cast<int>(state),
                                                   " is not a known state"));
  }
  // The proto names are the stored names with a prefix.
  return jobs::ParseJobState(v1::JobState_Name(state).substr(std::string("JOB_STATE_").size()));
}

std::string SafetyModeName(v1::SafetyMode mode) {
  if (mode == v1::SAFETY_MODE_UNSPECIFIED) mode = v1::SAFETY_MODE_REF_TEACHER;
  return v1::SafetyMode_Name(mode).substr(std::string("SAFETY_MODE_").size());
}

v1::SafetyMode SafetyModeFromName(const std::string& name) {
  v1::SafetyMode mode = v1::SAFETY_MODE_UNSPECIFIED;
  v1::SafetyMode_Parse("SAFETY_MODE_" + name, &mode);
  return mode;
}

std::string DatasetPurposeName(v1::DatasetPurpose purpose) {
  if (purpose == v1::DATASET_PURPOSE_UNSPECIFIED) purpose = v1::DATASET_PURPOSE_FINETUNE;
  return v1::DatasetPurpose_Name(purpose).substr(std::string("DATASET_PURPOSE_").size());
}

v1::DatasetPurpose DatasetPurposeFromName(const std::string& name) {
  v1::DatasetPurpose purpose = v1::DATASET_PURPOSE_UNSPECIFIED;
  v1::DatasetPurpose_Parse("DATASET_PURPOSE_" + name, &purpose);
  return purpose;
}

v1::FailureCode FailureCodeFromName(const std::string& name) {
  v1::FailureCode code = v1::FAILURE_CODE_INTERNAL;
  if (!v1::FailureCode_Parse("FAILURE_CODE_" + name, &code)) return v1::FAILURE_CODE_INTERNAL;
  return code;
}

std::string StoredModelFormat(const std::string& proto_format) {
  return proto_format == "huggingface" ? "hf_llama" : proto_format;
}

std::string ProtoModelFormat(const std::string& stored_format) {
  return stored_format == "hf_llama" ? "huggingface" : stored_format;
}

v1::Dataset DatasetToProto(const store::DatasetRecord& record, const std::string& purpose) {
  v1::Dataset dataset;
  dataset.set_id(record.id);
  dataset.set_name(record.name);
  dataset.set_purpose(DatasetPurposeFromName(purpose));
  dataset.set_size_bytes(record.size_bytes);
  dataset.set_sha256(record.sha256);
  dataset.set_record_count(record.record_count);
  SetTimestamp(record.created_at, dataset.mutable_create_time());

  const JsonObject report = ParseObject(record.validation_report_json);
  v1::ValidationReport* out = dataset.mutable_report();
  out->set_record_count(record.record_count);
  auto add_issues = [](const JsonObject& issues, auto* list) {
    if (!issues.is_array()) return;
    for (const JsonObject& issue : issues) {
      v1::RecordIssue* added = list->Add();
      added->set_line(issue.value("line", int64_t{0}));
      added->set_field(issue.value("field", ""));
      added->set_message(issue.value("message", ""));
    }
  };
  add_issues(report.value("errors", JsonObject::array()), out->mutable_errors());
  out->set_errors_not_shown(report.value("errors_not_shown", int64_t{0}));
  add_issues(report.value("warnings", JsonObject::array()), out->mutable_warnings());
  out->set_warnings_not_shown(report.value("warnings_not_shown", int64_t{0}));
  if (report.contains("format_counts") && report["format_counts"].is_object()) {
    for (const auto& [format, count] : report["format_counts"].items()) {
      if (count.is_number_integer()) (*out->mutable_format_counts())[format] = count.get<int64_t>();
    }
  }
  return dataset;
}

v1::Job JobToProto(const store::JobRecord& record,
                   const std::map<std::string, std::string>& latest_payloads,
                   const std::vector<v1::ArtifactFile>& artifacts) {
  v1::Job job;
  job.set_id(record.id);
  job.set_kind(record.kind == jobs::JobKind::kTeacher ? v1::JOB_KIND_TEACHER
                                                      : v1::JOB_KIND_FINETUNE);
  job.set_state(JobStateToProto(record.state));
  job.set_request_id(record.request_id);
  job.set_teacher_id(record.teacher_id.value_or(""));
  job.set_attempt(record.attempt);
  FillConfigFields(ParseObject(record.config_json), &job);

  if (record.failure_code.has_value()) {
    job.set_failure_code(FailureCodeFromName(*record.failure_code));
  }
  job.set_failure_reason(record.failure_reason.value_or(""));

  if (auto it = latest_payloads.find(kProgressEvent); it != latest_payloads.end()) {
    MergeJson(it->second, job.mutable_progress());
  }
  if (auto it = latest_payloads.find(kScreeningSummaryEvent); it != latest_payloads.end()) {
    MergeJson(it->second, job.mutable_screening());
  }
  if (auto it = latest_payloads.find(kEvaluationEvent); it != latest_payloads.end()) {
    MergeJson(it->second, job.mutable_evaluation());
  }
  for (const v1::ArtifactFile& file : artifacts) *job.add_artifacts() = file;

  SetTimestamp(record.created_at, job.mutable_create_time());
  if (record.started_at.has_value()) SetTimestamp(*record.started_at, job.mutable_start_time());
  if (record.finished_at.has_value()) SetTimestamp(*record.finished_at, job.mutable_end_time());
  return job;
}

v1::JobEvent JobEventToProto(const store::JobEvent& event) {
  v1::JobEvent out;
  out.set_job_id(event.job_id);
  out.set_sequence(event.sequence);
  SetTimestamp(event.created_at, out.mutable_time());
  const JsonObject payload = ParseObject(event.payload_json);

  if (event.type == store::kStateChangedEvent) {
    v1::JobEvent::StateChange* change = out.mutable_state_change();
    auto parse_state = [](const JsonObject& value) {
      if (!value.is_string()) return v1::JOB_STATE_UNSPECIFIED;
      absl::StatusOr<jobs::JobState> state = jobs::ParseJobState(value.get<std::string>());
      return state.ok() ? JobStateToProto(*state) : v1::JOB_STATE_UNSPECIFIED;
    };
    change->set_from(parse_state(payload.value("from", JsonObject())));
    change->set_to(parse_state(payload.value("to", JsonObject())));
    change->set_reason(payload.value("reason", ""));
    change->set_resume_step(payload.value("resume_step", int64_t{0}));
  } else if (event.type == kProgressEvent) {
    MergeJson(event.payload_json, out.mutable_progress());
  } else if (event.type == kEvaluationEvent) {
    MergeJson(event.payload_json, out.mutable_evaluation());
  } else if (payload.contains("message") && payload["message"].is_string()) {
    out.set_message(payload["message"].get<std::string>());
  } else {
    out.set_message(absl::StrCat(event.type, " ", payload.dump()));
  }
  return out;
}

v1::BaseModel BaseModelToProto(const store::BaseModelRecord& record) {
  v1::BaseModel model;
  model.set_name(record.name);
  model.set_format(ProtoModelFormat(record.format));
  model.set_max_seq_len(record.max_seq_len);
  model.set_end_of_answer_token_id(record.end_of_answer_token_id);
  model.set_prompt_template(record.prompt_template);
  model.set_active_teacher_id(record.active_teacher_id.value_or(""));
  return model;
}

v1::Teacher TeacherToProto(const store::TeacherRecord& record) {
  v1::Teacher teacher;
  teacher.set_id(record.id);
  teacher.set_base_model(record.base_model);
  teacher.set_job_id(record.job_id);
  teacher.set_layer(record.layer);
  teacher.set_threshold(record.threshold);
  teacher.set_prompt_template(record.prompt_template);
  teacher.set_harmful_eval_dataset_id(record.harmful_eval_dataset_id);
  teacher.set_active(record.active);
  SetTimestamp(record.created_at, teacher.mutable_create_time());

  // The stored report is the calibration's JSON: per layer {"layer", "threshold", "quality":
  // {"precision", "recall", "f1", "false_positive_rate", ...}}; precision is null when the layer
  // flagged nothing.
  const JsonObject report = ParseObject(record.quality_report_json);
  if (report.contains("layers") && report["layers"].is_array()) {
    for (const JsonObject& layer : report["layers"]) {
      if (!layer.is_object()) continue;
      const JsonObject quality = layer.value("quality", JsonObject::object());
      auto number = [&quality](const char* key) {
        return quality.contains(key) && quality[key].is_number() ? quality[key].get<double>() : 0.0;
      };
      v1::LayerQuality* added = teacher.add_layer_report();
      added->set_layer(layer.value("layer", 0));
      added->set_best_threshold(layer.value("threshold", 0.0));
      added->set_precision(number("precision"));
      added->set_recall(number("recall"));
      added->set_f1(number("f1"));
      added->set_false_positive_rate(number("false_positive_rate"));
    }
  }
  return teacher;
}

v1::Tenant TenantToProto(const store::Tenant& tenant) {
  v1::Tenant out;
  out.set_id(tenant.id);
  out.set_name(tenant.name);
  out.set_max_concurrent_jobs(tenant.limits.max_concurrent_jobs);
  out.set_max_dataset_bytes(tenant.limits.max_dataset_bytes);
  SetTimestamp(tenant.created_at, out.mutable_create_time());
  return out;
}

v1::ApiKey ApiKeyToProto(const store::ApiKeyRecord& key) {
  v1::ApiKey out;
  out.set_id(key.id);
  out.set_tenant_id(key.tenant_id);
  out.set_role(key.role == store::ApiKeyRole::kOperator ? v1::API_KEY_ROLE_OPERATOR
                                                        : v1::API_KEY_ROLE_CUSTOMER);
  out.set_prefix(key.prefix);
  SetTimestamp(key.created_at, out.mutable_create_time());
  if (key.expires_at.has_value()) SetTimestamp(*key.expires_at, out.mutable_expire_time());
  if (key.revoked_at.has_value()) SetTimestamp(*key.revoked_at, out.mutable_revoke_time());
  return out;
}

v1::Worker WorkerToProto(const store::WorkerRecord& worker) {
  v1::Worker out;
  out.set_id(worker.id);
  out.set_host(worker.host);
  SetTimestamp(worker.started_at, out.mutable_start_time());
  SetTimestamp(worker.last_heartbeat_at, out.mutable_last_heartbeat_time());
  out.set_job_id(worker.job_id);
  return out;
}

}  // namespace reftune::gateway
