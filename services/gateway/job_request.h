// Checks of job requests against the documented ranges, with defaults applied, and the job
// configuration JSON that the store keeps as submitted.
#ifndef REFTUNE_SERVICES_GATEWAY_JOB_REQUEST_H_
#define REFTUNE_SERVICES_GATEWAY_JOB_REQUEST_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "reftune/v1/customer_service.pb.h"
#include "reftune/v1/operator_service.pb.h"
#include "services/common/status_conversion.h"

namespace reftune::gateway {

// Returns `requested` with every unset field at its default, and appends one violation per field
// outside its range (field names like "hyperparameters.lora_r"). `context_length` is the base
// model's context in tokens; 0 means unknown, which skips the upper bound of max_seq_len.
v1::Hyperparameters ResolveHyperparameters(const v1::Hyperparameters& requested,
                                           int context_length,
                                           std::vector<services::FieldViolation>* violations);

// Appends violations for the request fields outside hyperparameters: missing ids, the safety
// mode, filter_threshold, suffix, request_id and wall_time_limit_seconds.
void CheckCreateJobFields(const v1::CreateJobRequest& request,
                          std::vector<services::FieldViolation>* violations);

// True for the safety modes that need the base model's active teacher.
bool NeedsTeacher(v1::SafetyMode mode);

// The same for teacher settings (field names like "settings.lora_r").
v1::TeacherSettings ResolveTeacherSettings(const v1::TeacherSettings& requested,
                                           std::vector<services::FieldViolation>* violations);

// JSON object of a message with proto field names and every field printed, for stored configs.
nlohmann::json MessageToJsonObject(const google::protobuf::Message& message);

// INVALID_ARGUMENT with a BadRequest detail listing `violations`, or OK when there are none.
absl::Status ViolationsToStatus(const std::string& what,
                                const std::vector<services::FieldViolation>& violations);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_JOB_REQUEST_H_
