#include "services/gateway/job_creation.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/prompt_template.h"
#include "core/store/dataset_catalog.h"
#include "nlohmann/json.hpp"
#include "services/gateway/job_request.h"
#include "services/gateway/proto_conversion.h"
#include "services/gateway/token_lengths.h"

namespace reftune::gateway {
namespace {

using services::FieldViolation;

// Looks a dataset up for the tenant and checks its purpose.
absl::StatusOr<store::DatasetRecord> ResolveDataset(GatewayContext& context,
                                                    const std::string& tenant_id,
                                                    const std::string& field,
                                                    const std::string& dataset_id,
                                                    const std::string& purpose) {
  REFTUNE_ASSIGN_OR_RETURN(store::DatasetRecord dataset,
                           context.datasets.GetDataset(tenant_id, dataset_id));
  REFTUNE_ASSIGN_OR_RETURN(auto purposes, context.dataset_catalog.Purposes({dataset_id}));
  const std::string actual = purposes.count(dataset_id) ? purposes[dataset_id] : "FINETUNE";
  if (actual != purpose) {
    return ViolationsToStatus(
        "job request", {{field, absl::StrCat(field, " ", dataset_id, " is a ", actual,
                                             " dataset; a ", purpose, " dataset is needed")}});
  }
  return dataset;
}

absl::StatusOr<data::PromptTemplate> TemplateOf(const store::BaseModelRecord& model) {
  if (model.prompt_template.empty()) return data::PromptTemplate::Alpaca();
  return data::PromptTemplate::Create(model.name, model.prompt_template);
}

// Runs the token-length check. Returns the overlong lines to skip, or INVALID_ARGUMENT listing
// them when the request rejects overlong records.
absl::StatusOr<std::vector<int64_t>> CheckTokenLengths(GatewayContext& context,
                                                       const store::BaseModelRecord& model,
                                                       const store::DatasetRecord& dataset,
                                                       const v1::Hyperparameters& hyperparameters) {
  std::vector<int64_t> lines;
  if (model.tokenizer_path.empty()) return lines;
  REFTUNE_ASSIGN_OR_RETURN(auto tokenizer, context.tokenizers.Get(model.format, model.tokenizer_path));
  REFTUNE_ASSIGN_OR_RETURN(data::PromptTemplate prompt_template, TemplateOf(model));
  TokenLengthLimits limits{hyperparameters.max_seq_len(), hyperparameters.max_answer_tokens()};
  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<OverlongRecord> overlong,
      FindOverlongRecords(dataset.storage_path, *tokenizer, prompt_template, limits));
  if (overlong.empty()) return lines;

  if (hyperparameters.overlong_records() == v1::OVERLONG_RECORDS_SKIP) {
    for (const OverlongRecord& record : overlong) lines.push_back(record.line);
    return lines;
  }
  std::vector<FieldViolation> violations;
  for (const OverlongRecord& record : overlong) {
    violations.push_back({absl::StrCat("line ", record.line, ": (record)"),
                          absl::StrCat("record is ", record.tokens,
                                       " tokens, over max_seq_len ", limits.max_seq_len,
                                       "; shorten it, raise max_seq_len or set overlong_records "
                                       "to SKIP")});
  }
  return ViolationsToStatus(absl::StrCat("dataset ", dataset.id, " has ", overlong.size(),
                                         " overlong record(s), so the job request"),
                            violations);
}

}  // namespace

absl::StatusOr<store::NewJob> PrepareCustomerJob(GatewayContext& context,
                                                 const store::Principal& principal,
                                                 const v1::CreateJobRequest& request) {
  std::vector<FieldViolation> violations;
  CheckCreateJobFields(request, &violations);

  std::optional<store::BaseModelRecord> model;
  if (!request.base_model().empty()) {
    absl::StatusOr<store::BaseModelRecord> found = context.base_models.GetByName(request.base_model());
    if (absl::IsNotFound(found.status())) {
      violations.push_back({"base_model", std::string(found.status().message())});
    } else if (!found.ok()) {
      return found.status();
    } else {
      model = *found;
    }
  }
  const v1::Hyperparameters hyperparameters = ResolveHyperparameters(
      request.hyperparameters(), model.has_value() ? model->max_seq_len : 0, &violations);
  REFTUNE_RETURN_IF_ERROR(ViolationsToStatus("job request", violations));

  REFTUNE_ASSIGN_OR_RETURN(
      store::DatasetRecord dataset,
      ResolveDataset(context, principal.tenant_id, "dataset_id", request.dataset_id(),
                     store::kFinetunePurpose));
  std::optional<store::DatasetRecord> validation;
  if (!request.validation_dataset_id().empty()) {
    REFTUNE_ASSIGN_OR_RETURN(
        validation, ResolveDataset(context, principal.tenant_id, "validation_dataset_id",
                                   request.validation_dataset_id(), store::kFinetunePurpose));
  }

  std::optional<std::string> teacher_id;
  if (NeedsTeacher(request.safety_mode())) {
    REFTUNE_ASSIGN_OR_RETURN(auto teacher, context.teachers.Active(model->name));
    if (!teacher.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "base model \"", model->name, "\" has no active teacher, which safety mode ",
          SafetyModeName(request.safety_mode()),
          " needs; ask an operator to promote one, or use SAFETY_MODE_SFT"));
    }
    teacher_id = teacher->id;
  }

  REFTUNE_ASSIGN_OR_RETURN(std::vector<int64_t> skipped,
                           CheckTokenLengths(context, *model, dataset, hyperparameters));

  nlohmann::json config = {
      {"dataset_id", dataset.id},
      {"dataset_path", dataset.storage_path},
      {"dataset_sha256", dataset.sha256},
      {"base_model", model->name},
      {"safety_mode", SafetyModeName(request.safety_mode())},
      {"hyperparameters", MessageToJsonObject(hyperparameters)},
      {"seed", request.seed() == 0 ? uint64_t{1} : request.seed()},
      {"suffix", request.suffix()},
      {"wall_time_limit_seconds", request.wall_time_limit_seconds() > 0
                                      ? request.wall_time_limit_seconds()
                                      : context.options.default_wall_time_limit_seconds},
      {"skipped_lines", skipped},
  };
  if (validation.has_value()) {
    config["validation_dataset_id"] = validation->id;
    config["validation_dataset_path"] = validation->storage_path;
  }
  if (request.has_filter_threshold()) config["filter_threshold"] = request.filter_threshold();

  store::NewJob job;
  job.kind = jobs::JobKind::kCustomer;
  job.config_json = config.dump();
  job.request_id = request.request_id();
  job.max_attempts = context.options.max_job_attempts;
  job.teacher_id = teacher_id;
  return job;
}

absl::StatusOr<store::NewJob> PrepareTeacherJob(GatewayContext& context,
                                                const store::Principal& principal,
                                                const v1::CreateTeacherJobRequest& request) {
  std::vector<FieldViolation> violations;
  if (request.base_model().empty()) violations.push_back({"base_model", "base_model is required"});
  if (request.alignment_dataset_id().empty()) {
    violations.push_back({"alignment_dataset_id", "alignment_dataset_id is required"});
  }
  if (request.harmful_eval_dataset_id().empty()) {
    violations.push_back({"harmful_eval_dataset_id", "harmful_eval_dataset_id is required"});
  }
  if (request.request_id().empty() || request.request_id().size() > 128) {
    violations.push_back({"request_id", "request_id must be 1 to 128 characters"});
  }
  const v1::TeacherSettings settings = ResolveTeacherSettings(request.settings(), &violations);
  REFTUNE_RETURN_IF_ERROR(ViolationsToStatus("teacher job request", violations));

  REFTUNE_ASSIGN_OR_RETURN(store::BaseModelRecord model,
                           context.base_models.GetByName(request.base_model()));
  REFTUNE_ASSIGN_OR_RETURN(
      store::DatasetRecord alignment,
      ResolveDataset(context, principal.tenant_id, "alignment_dataset_id",
                     request.alignment_dataset_id(), store::kAlignmentPurpose));
  REFTUNE_ASSIGN_OR_RETURN(
      store::DatasetRecord harmful_eval,
      ResolveDataset(context, principal.tenant_id, "harmful_eval_dataset_id",
                     request.harmful_eval_dataset_id(), store::kHarmfulEvalPurpose));

  nlohmann::json config = {
      {"base_model", model.name},
      {"alignment_dataset_id", alignment.id},
      {"alignment_dataset_path", alignment.storage_path},
      {"harmful_eval_dataset_id", harmful_eval.id},
      {"harmful_eval_dataset_path", harmful_eval.storage_path},
      {"settings", MessageToJsonObject(settings)},
      {"seed", request.seed() == 0 ? uint64_t{1} : request.seed()},
      {"wall_time_limit_seconds", context.options.default_wall_time_limit_seconds},
  };
  store::NewJob job;
  job.kind = jobs::JobKind::kTeacher;
  job.config_json = config.dump();
  job.request_id = request.request_id();
  job.max_attempts = context.options.max_job_attempts;
  return job;
}

}  // namespace reftune::gateway
