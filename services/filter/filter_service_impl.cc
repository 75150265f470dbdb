#include "services/filter/filter_service_impl.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/method/layer_calibration.h"
#include "glog/logging.h"
#include "services/common/status_conversion.h"
#include "services/filter/await_model_call.h"

namespace reftune::filter {
namespace {

// Result of one scored batch, as the model executor produces it.
struct ScoredBatch {
  std::vector<method::FilterDecision> decisions;
  double threshold = 0.0;
  int64_t layer = 0;
};

absl::Status WithRequestIndex(const absl::Status& status, int64_t index) {
  return absl::Status(status.code(), absl::StrCat("request ", index, ": ", status.message()));
}

// Logs failures that an operator must fix (a broken teacher folder, an unreadable model), but
// not bad requests or calls that the client ended.
void LogServerSideFailure(const absl::Status& status, const std::string& method,
                          const std::string& id) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
      return;
    default:
      LOG_EVERY_N(ERROR, 10) << method << " for " << id << " failed: " << status << " ("
                             << google::COUNTER << " such failures)";
  }
}

}  // namespace

FilterServiceImpl::FilterServiceImpl(ModelExecutor* executor, TeacherCache* teachers,
                                     AdapterGenerator* generator,
                                     const BaseModelResolver* base_models,
                                     metrics::Metrics* metrics, FilterServiceOptions options)
    : executor_(executor),
      teachers_(teachers),
      generator_(generator),
      base_models_(base_models),
      metrics_(metrics),
      options_(std::move(options)) {}

grpc::Status FilterServiceImpl::ScorePrompts(grpc::ServerContext* context,
                                             const reftune::v1::ScorePromptsRequest* request,
                                             reftune::v1::ScorePromptsResponse* response) {
  const absl::Status status = ScoreBatch(context, *request, response);
  LogServerSideFailure(status, "ScorePrompts", "teacher " + request->teacher_id());
  return services::ToGrpcStatus(status);
}

grpc::Status FilterServiceImpl::StreamScorePrompts(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<reftune::v1::ScorePromptsResponse, reftune::v1::ScorePromptsRequest>*
        stream) {
  reftune::v1::ScorePromptsRequest request;
  int64_t index = 0;
  while (stream->Read(&request)) {
    reftune::v1::ScorePromptsResponse response;
    if (absl::Status status = ScoreBatch(context, request, &response); !status.ok()) {
      LogServerSideFailure(status, "StreamScorePrompts", "teacher " + request.teacher_id());
      return services::ToGrpcStatus(WithRequestIndex(status, index));
    }
    if (!stream->Write(response)) {
      return services::ToGrpcStatus(absl::CancelledError(
          absl::StrCat("the client stopped reading after ", index, " responses")));
    }
    ++index;
  }
  VLOG(1) << "StreamScorePrompts answered " << index << " requests";
  return grpc::Status::OK;
}

grpc::Status FilterServiceImpl::GenerateWithAdapter(
    grpc::ServerContext* context, const reftune::v1::GenerateWithAdapterRequest* request,
    reftune::v1::GenerateWithAdapterResponse* response) {
  const absl::Status status = Generate(context, *request, response);
  LogServerSideFailure(status, "GenerateWithAdapter", "base model " + request->base_model());
  return services::ToGrpcStatus(status);
}

absl::Status FilterServiceImpl::ValidateScoreRequest(
    const reftune::v1::ScorePromptsRequest& request) const {
  if (request.teacher_id().empty()) {
    return absl::InvalidArgumentError("teacher_id is empty; set the id of a trained teacher");
  }
  const int count = request.prompts_size();
  if (count < 1 || count > options_.max_prompts_per_request) {
    return absl::InvalidArgumentError(absl::StrCat("prompts must contain 1 to ",
                                                   options_.max_prompts_per_request,
                                                   " prompts per request, got ", count,
                                                   "; split larger sets into several requests"));
  }
  for (int i = 0; i < count; ++i) {
    if (request.prompts(i).size() > options_.max_prompt_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("prompts[", i, "] has ",
                                                     request.prompts(i).size(),
                                                     " bytes; the limit is ",
                                                     options_.max_prompt_bytes));
    }
  }
  if (request.has_threshold() &&
      !(request.threshold() >= -1.0 && request.threshold() <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("threshold must be in [-1, 1], got ", request.threshold()));
  }
  return absl::OkStatus();
}

absl::Status FilterServiceImpl::ScoreBatch(grpc::ServerContext* context,
                                           const reftune::v1::ScorePromptsRequest& request,
                                           reftune::v1::ScorePromptsResponse* response) {
  REFTUNE_RETURN_IF_ERROR(ValidateScoreRequest(request));

  // The task may outlive this handler when the call ends first, so it owns copies of its inputs.
  std::vector<std::string> prompts(request.prompts().begin(), request.prompts().end());
  TeacherCache* teachers = teachers_;
  auto work = [teachers, teacher_id = request.teacher_id(),
               prompts = std::move(prompts)]() -> absl::StatusOr<ScoredBatch> {
    REFTUNE_ASSIGN_OR_RETURN(std::shared_ptr<const LoadedTeacher> teacher,
                             teachers->Get(teacher_id));
    ScoredBatch scored;
    REFTUNE_ASSIGN_OR_RETURN(scored.decisions, teacher->Score(prompts));
    scored.threshold = teacher->threshold();
    scored.layer = teacher->layer();
    return scored;
  };
  REFTUNE_ASSIGN_OR_RETURN(auto call, executor_->Submit<ScoredBatch>(std::move(work)));
  REFTUNE_ASSIGN_OR_RETURN(
      ScoredBatch scored,
      AwaitModelCall(context, *call, absl::StrCat("scoring with teacher ", request.teacher_id())));

  const double threshold = request.has_threshold() ? request.threshold() : scored.threshold;
  response->set_threshold(threshold);
  response->set_layer(static_cast<int32_t>(scored.layer));
  for (const method::FilterDecision& decision : scored.decisions) {
    reftune::v1::PromptScore* score = response->add_scores();
    score->set_cosine_similarity(decision.cosine);
    score->set_harmful(method::IsFiltered(decision.cosine, threshold));
    RecordDecision(decision.cosine, score->harmful());
  }
  VLOG(1) << "Scored " << scored.decisions.size() << " prompts with teacher "
          << request.teacher_id() << " at threshold " << threshold;
  return absl::OkStatus();
}

absl::Status FilterServiceImpl::Generate(grpc::ServerContext* context,
                                         const reftune::v1::GenerateWithAdapterRequest& request,
                                         reftune::v1::GenerateWithAdapterResponse* response) {
  if (base_models_ == nullptr) {
    return absl::FailedPreconditionError(
        "this filter service has no base model registry; start it with --database or "
        "--base-models");
  }
  AdapterGenerationRequest generation;
  generation.prompts.assign(request.prompts().begin(), request.prompts().end());
  generation.adapter_folder = request.adapter_path();
  generation.generation.max_new_tokens =
      request.max_new_tokens() == 0 ? options_.default_max_new_tokens : request.max_new_tokens();
  generation.generation.temperature = request.temperature();
  generation.generation.top_p = request.top_p() == 0.0 ? 1.0 : request.top_p();
  generation.generation.seed = request.seed();
  if (!request.prompt_template().empty()) {
    REFTUNE_ASSIGN_OR_RETURN(generation.prompt_template,
                             data::PromptTemplate::Create("request", request.prompt_template()));
  }
  // Bounds first, so that a bad request costs no database lookup.
  REFTUNE_RETURN_IF_ERROR(ValidateGenerationRequest(generation));
  REFTUNE_ASSIGN_OR_RETURN(generation.base_model,
                           base_models_->ResolveBaseModel(request.base_model()));

  AdapterGenerator* generator = generator_;
  auto work = [generator, generation = std::move(generation)]() {
    return generator->Generate(generation);
  };
  REFTUNE_ASSIGN_OR_RETURN(auto call,
                           executor_->Submit<std::vector<std::string>>(std::move(work)));
  REFTUNE_ASSIGN_OR_RETURN(
      std::vector<std::string> completions,
      AwaitModelCall(context, *call, absl::StrCat("generating with base model ",
                                                  request.base_model())));
  for (std::string& completion : completions) response->add_completions(std::move(completion));
  return absl::OkStatus();
}

void FilterServiceImpl::RecordDecision(double cosine, bool harmful) {
  if (metrics_ == nullptr) return;
  metrics_->filter_prompts.Add({{"decision", harmful ? "filtered" : "kept"}}).Increment();
  metrics_->filter_cosine_similarity.Observe(cosine);
}

}  // namespace reftune::filter
