// Conversions between the store's records and the reftune.v1 messages.
#ifndef REFTUNE_SERVICES_GATEWAY_PROTO_CONVERSION_H_
#define REFTUNE_SERVICES_GATEWAY_PROTO_CONVERSION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/jobs/job_state.h"
#include "core/store/base_model_store.h"
#include "core/store/dataset_store.h"
#include "core/store/job_record.h"
#include "core/store/operator_store.h"
#include "core/store/teacher_store.h"
#include "core/store/tenant_store.h"
#include "google/protobuf/timestamp.pb.h"
#include "reftune/v1/customer_service.pb.h"
#include "reftune/v1/operator_service.pb.h"

namespace reftune::gateway {

// Event types that workers write besides STATE_CHANGED and PROGRESS. Their payloads are the JSON
// form (proto field names) of the message named in the comment.
// EvaluationResults.
inline constexpr char kEvaluationEvent[] = "EVALUATION";
// ScreeningSummary.
inline constexpr char kScreeningSummaryEvent[] = "SCREENING_SUMMARY";
// {"message": "..."}: free-form notes such as a resume from a checkpoint.
inline constexpr char kMessageEvent[] = "MESSAGE";
// Worker progress events, as JobStore::RecordProgress writes them (JobProgress fields).
inline constexpr char kProgressEvent[] = "PROGRESS";

// Subfolder of a job's artifact folder that holds the exported PEFT adapter.
inline constexpr char kAdapterFolderName[] = "adapter";

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp);

v1::JobState JobStateToProto(jobs::JobState state);
// INVALID_ARGUMENT for UNSPECIFIED and unknown numbers.
absl::StatusOr<jobs::JobState> JobStateFromProto(v1::JobState state);

// Stored names: "REF_TEACHER", ...; and back, with UNSPECIFIED becoming REF_TEACHER.
std::string SafetyModeName(v1::SafetyMode mode);
v1::SafetyMode SafetyModeFromName(const std::string& name);

// Stored purpose names ("FINETUNE", ...) and back.
std::string DatasetPurposeName(v1::DatasetPurpose purpose);
v1::DatasetPurpose DatasetPurposeFromName(const std::string& name);

v1::FailureCode FailureCodeFromName(const std::string& name);

// Proto format names ("llama2c", "huggingface") and the stored ones ("llama2c", "hf_llama").
std::string StoredModelFormat(const std::string& proto_format);
std::string ProtoModelFormat(const std::string& stored_format);

v1::Dataset DatasetToProto(const store::DatasetRecord& record, const std::string& purpose);

// Fills a Job from its record, its stored config JSON, the newest event payloads by type
// (PROGRESS, SCREENING_SUMMARY, EVALUATION) and its adapter files.
v1::Job JobToProto(const store::JobRecord& record,
                   const std::map<std::string, std::string>& latest_payloads,
                   const std::vector<v1::ArtifactFile>& artifacts);

v1::JobEvent JobEventToProto(const store::JobEvent& event);

v1::BaseModel BaseModelToProto(const store::BaseModelRecord& record);
v1::Teacher TeacherToProto(const store::TeacherRecord& record);
v1::Tenant TenantToProto(const store::Tenant& tenant);
v1::ApiKey ApiKeyToProto(const store::ApiKeyRecord& key);
v1::Worker WorkerToProto(const store::WorkerRecord& worker);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_PROTO_CONVERSION_H_
