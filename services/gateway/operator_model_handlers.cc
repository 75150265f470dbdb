// OperatorService calls on models, datasets and teachers.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/prompt_template.h"
#include "glog/logging.h"
#include "services/gateway/auth.h"
#include "services/gateway/base_model_files.h"
#include "services/gateway/dataset_ingest.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/job_creation.h"
#include "services/gateway/job_view.h"
#include "services/gateway/operator_service.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

// Bytes read from a registered file per ingest step.
constexpr size_t kRegisterChunkBytes = size_t{1} << 20;

absl::StatusOr<store::BaseModelRecord> BuildBaseModel(GatewayContext& context,
                                                      const v1::RegisterBaseModelRequest& request) {
  const std::string& name = request.name();
  const bool valid_name = !name.empty() && name.size() <= 100 &&
                          name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "0123456789._-") == std::string::npos;
  if (!valid_name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name must be 1 to 100 characters of [A-Za-z0-9._-], got \"", name, "\""));
  }
  REFTUNE_ASSIGN_OR_RETURN(BaseModelFacts facts,
                           ReadBaseModelFacts(request.format(), request.path()));

  store::BaseModelRecord model;
  model.name = name;
  model.format = StoredModelFormat(request.format());
  model.path = request.path();
  model.max_seq_len = facts.max_seq_len;
  model.tokenizer_path = request.tokenizer_path().empty() ? facts.tokenizer_path
                                                          : request.tokenizer_path();
  if (model.tokenizer_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tokenizer_path is empty and no tokenizer.model was found next to ", request.path(),
        "; pass the tokenizer file"));
  }
  // Loading the tokenizer now catches a wrong file before any job depends on it.
  REFTUNE_ASSIGN_OR_RETURN(auto tokenizer,
                           context.tokenizers.Get(model.format, model.tokenizer_path));

  if (request.has_end_of_answer_token_id()) {
    model.end_of_answer_token_id = request.end_of_answer_token_id();
  } else {
    model.end_of_answer_token_id = facts.end_of_answer_token_id.value_or(tokenizer->eos_id());
  }
  if (model.end_of_answer_token_id < 0 || model.end_of_answer_token_id >= tokenizer->vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "end_of_answer_token_id must be in [0, ", tokenizer->vocab_size(), "), got ",
        model.end_of_answer_token_id));
  }

  // The field takes a built-in template's name ("alpaca", "short") or a template's text.
  const std::string& requested_template = request.prompt_template();
  if (requested_template.empty()) {
    model.prompt_template = data::PromptTemplate::Alpaca().text();
  } else if (absl::StatusOr<data::PromptTemplate> builtin =
                 data::PromptTemplate::Builtin(requested_template);
             builtin.ok()) {
    model.prompt_template = builtin->text();
  } else {
    absl::StatusOr<data::PromptTemplate> checked =
        data::PromptTemplate::Create(name, requested_template);
    if (!checked.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt_template \"", requested_template,
          "\" is neither a built-in template name (alpaca, short) nor a template text with one "
          "{prompt} placeholder: ", checked.status().message()));
    }
    model.prompt_template = checked->text();
  }
  return model;
}

}  // namespace

grpc::Status OperatorServiceImpl::RegisterBaseModel(grpc::ServerContext* context,
                                                    const v1::RegisterBaseModelRequest* request,
                                                    v1::BaseModel* response) {
  return RunHandler("RegisterBaseModel", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(store::BaseModelRecord model, BuildBaseModel(*context_, *request));
    REFTUNE_ASSIGN_OR_RETURN(store::BaseModelRecord registered,
                             context_->base_models.Register(model));
    LOG(INFO) << "Registered base model \"" << registered.name << "\" (" << registered.format
              << ", context " << registered.max_seq_len << " tokens) from " << registered.path;
    *response = BaseModelToProto(registered);
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::RegisterDataset(grpc::ServerContext* context,
                                                  const v1::RegisterDatasetRequest* request,
                                                  v1::Dataset* response) {
  return RunHandler("RegisterDataset", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->purpose() != v1::DATASET_PURPOSE_ALIGNMENT &&
        request->purpose() != v1::DATASET_PURPOSE_HARMFUL_EVAL) {
      return absl::InvalidArgumentError(absl::StrCat(
          "purpose must be DATASET_PURPOSE_ALIGNMENT or DATASET_PURPOSE_HARMFUL_EVAL, got ",
          v1::DatasetPurpose_Name(request->purpose())));
    }
    std::ifstream in(request->path(), std::ios::binary);
    if (request->path().empty() || !in) {
      return absl::NotFoundError(absl::StrCat("dataset file \"", request->path(),
                                              "\" cannot be read by the gateway"));
    }

    IngestExpectations expectations;
    expectations.name = request->name();
    expectations.purpose = request->purpose();
    REFTUNE_ASSIGN_OR_RETURN(std::unique_ptr<DatasetIngest> ingest,
                             DatasetIngest::Begin(context_, principal.tenant_id, expectations));
    std::string buffer(kRegisterChunkBytes, '\0');
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      REFTUNE_RETURN_IF_ERROR(ingest->Append(absl::string_view(buffer.data(), in.gcount())));
    }
    if (in.bad()) return absl::InternalError(absl::StrCat("reading ", request->path(), " failed"));
    REFTUNE_ASSIGN_OR_RETURN(*response, ingest->Finish());
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::CreateTeacherJob(grpc::ServerContext* context,
                                                   const v1::CreateTeacherJobRequest* request,
                                                   v1::Job* response) {
  return RunHandler("CreateTeacherJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(store::NewJob job, PrepareTeacherJob(*context_, principal, *request));
    REFTUNE_ASSIGN_OR_RETURN(store::CreateJobResult created,
                             context_->jobs.CreateJob(principal.tenant_id, job));
    if (created.created) {
      LOG(INFO) << "Created teacher job " << created.job.id << " for base model \""
                << request->base_model() << "\"";
    }
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, created.job));
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::ListTeachers(grpc::ServerContext* context,
                                               const v1::ListTeachersRequest* request,
                                               v1::ListTeachersResponse* response) {
  return RunHandler("ListTeachers", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(std::vector<store::TeacherRecord> teachers,
                             context_->teachers.List(request->base_model()));
    for (const store::TeacherRecord& teacher : teachers) {
      *response->add_teachers() = TeacherToProto(teacher);
    }
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::PromoteTeacher(grpc::ServerContext* context,
                                                 const v1::PromoteTeacherRequest* request,
                                                 v1::Teacher* response) {
  return RunHandler("PromoteTeacher", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->teacher_id().empty()) return absl::InvalidArgumentError("teacher_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::TeacherRecord teacher,
                             context_->teachers.Promote(request->teacher_id()));
    LOG(INFO) << "Promoted teacher " << teacher.id << " for base model \"" << teacher.base_model
              << "\"";
    *response = TeacherToProto(teacher);
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
