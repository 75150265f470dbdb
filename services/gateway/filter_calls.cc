// CustomerService calls that run a model, forwarded to the filter service: ScreenDataset and
// Generate. The gateway passes the caller's deadline and cancellation on.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/jsonl.h"
#include "core/store/dataset_catalog.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "services/common/status_conversion.h"
#include "services/gateway/auth.h"
#include "services/gateway/customer_service.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/job_view.h"

namespace reftune::gateway {
namespace {

// Prompts per ScorePrompts request; the filter service accepts up to 1024.
constexpr int kScreeningBatchSize = 256;
constexpr int kMaxGeneratePrompts = 16;
constexpr int kMaxNewTokens = 512;

absl::StatusOr<std::unique_ptr<v1::FilterService::Stub>> FilterStub(GatewayContext& context) {
  if (context.filter_channel == nullptr) {
    return absl::UnavailableError(
        "this gateway has no filter service configured; start it with --filter-address "
        "(or REFTUNE_FILTER_ADDRESS) to use ScreenDataset and Generate");
  }
  return v1::FilterService::NewStub(context.filter_channel);
}

// Streams the prompts in batches and relays each batch's scores with record indexes and lines.
absl::Status ScreenRecords(v1::FilterService::Stub& stub, grpc::ServerContext& call,
                           const std::string& teacher_id, const v1::ScreenDatasetRequest& request,
                           const std::vector<data::Record>& records,
                           grpc::ServerWriter<v1::ScreenDatasetResponse>* writer) {
  std::unique_ptr<grpc::ClientContext> client = grpc::ClientContext::FromServerContext(call);
  auto stream = stub.StreamScorePrompts(client.get());

  v1::ScreeningSummary summary;
  for (size_t start = 0; start < records.size(); start += kScreeningBatchSize) {
    const size_t end = std::min(records.size(), start + kScreeningBatchSize);
    v1::ScorePromptsRequest batch;
    batch.set_teacher_id(teacher_id);
    if (request.has_filter_threshold()) batch.set_threshold(request.filter_threshold());
    for (size_t i = start; i < end; ++i) batch.add_prompts(records[i].prompt);

    v1::ScorePromptsResponse scores;
    if (!stream->Write(batch) || !stream->Read(&scores)) break;
    if (scores.scores_size() != static_cast<int>(end - start)) {
      return absl::InternalError(absl::StrCat("filter service returned ", scores.scores_size(),
                                              " scores for ", end - start, " prompts"));
    }

    v1::ScreenDatasetResponse out;
    out.set_teacher_id(teacher_id);
    for (size_t i = start; i < end; ++i) {
      const v1::PromptScore& score = scores.scores(static_cast<int>(i - start));
      v1::ScreeningRecord* record = out.add_records();
      record->set_index(static_cast<int64_t>(i));
      record->set_line(records[i].line);
      record->set_score(score.cosine_similarity());
      record->set_filtered(score.harmful());
      summary.set_records_filtered(summary.records_filtered() + (score.harmful() ? 1 : 0));
    }
    summary.set_records_screened(static_cast<int64_t>(end));
    summary.set_threshold(scores.threshold());
    summary.set_layer(scores.layer());
    if (end == records.size()) *out.mutable_summary() = summary;
    if (!writer->Write(out)) return absl::CancelledError("client stopped the screening stream");
  }
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();
  if (!finished.ok()) return services::FromGrpcStatus(finished);
  return absl::OkStatus();
}

}  // namespace

grpc::Status CustomerServiceImpl::ScreenDataset(
    grpc::ServerContext* context, const v1::ScreenDatasetRequest* request,
    grpc::ServerWriter<v1::ScreenDatasetResponse>* writer) {
  return RunHandler("ScreenDataset", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->dataset_id().empty() || request->base_model().empty()) {
      return absl::InvalidArgumentError("dataset_id and base_model are both required");
    }
    if (request->has_filter_threshold() &&
        !(request->filter_threshold() >= -1 && request->filter_threshold() <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter_threshold must be in [-1, 1], got ", request->filter_threshold()));
    }
    REFTUNE_ASSIGN_OR_RETURN(auto stub, FilterStub(*context_));
    REFTUNE_ASSIGN_OR_RETURN(store::DatasetRecord dataset,
                             context_->datasets.GetDataset(principal.tenant_id,
                                                           request->dataset_id()));
    REFTUNE_ASSIGN_OR_RETURN(auto teacher, context_->teachers.Active(request->base_model()));
    if (!teacher.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "base model \"", request->base_model(), "\" has no active teacher to screen with"));
    }
    data::RecordParseOptions options;
    options.require_response = false;
    REFTUNE_ASSIGN_OR_RETURN(std::vector<data::Record> records,
                             data::ReadRecordsFile(dataset.storage_path, options));
    return ScreenRecords(*stub, *context, teacher->id, *request, records, writer);
  });
}

grpc::Status CustomerServiceImpl::Generate(grpc::ServerContext* context,
                                           const v1::GenerateRequest* request,
                                           v1::GenerateResponse* response) {
  return RunHandler("Generate", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->prompts_size() < 1 || request->prompts_size() > kMaxGeneratePrompts) {
      return absl::InvalidArgumentError(absl::StrCat("prompts must hold 1 to ",
                                                     kMaxGeneratePrompts, " prompts, got ",
                                                     request->prompts_size()));
    }
    if (request->max_new_tokens() < 0 || request->max_new_tokens() > kMaxNewTokens) {
      return absl::InvalidArgumentError(absl::StrCat("max_new_tokens must be in [1, ",
                                                     kMaxNewTokens, "] (0 means 64), got ",
                                                     request->max_new_tokens()));
    }
    if (!(request->top_p() >= 0 && request->top_p() <= 1) || !(request->temperature() >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "top_p must be in [0, 1] and temperature at least 0, got top_p ", request->top_p(),
          " and temperature ", request->temperature()));
    }
    REFTUNE_ASSIGN_OR_RETURN(auto stub, FilterStub(*context_));
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->jobs.GetJob(principal.tenant_id, request->job_id()));
    if (job.state != jobs::JobState::kSucceeded) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", job.id, " is ", jobs::JobStateName(job.state),
          "; Generate needs a SUCCEEDED job"));
    }
    REFTUNE_ASSIGN_OR_RETURN(v1::Job view, BuildJobView(*context_, job));
    REFTUNE_ASSIGN_OR_RETURN(std::string adapter_folder, AdapterFolder(*context_, job.id));

    v1::GenerateWithAdapterRequest forwarded;
    forwarded.set_base_model(view.base_model());
    forwarded.set_adapter_path(adapter_folder);
    *forwarded.mutable_prompts() = request->prompts();
    forwarded.set_max_new_tokens(request->max_new_tokens() == 0 ? 64 : request->max_new_tokens());
    forwarded.set_temperature(request->temperature());
    forwarded.set_top_p(request->top_p());
    forwarded.set_seed(request->seed());

    std::unique_ptr<grpc::ClientContext> client = grpc::ClientContext::FromServerContext(*context);
    v1::GenerateWithAdapterResponse generated;
    const grpc::Status status = stub->GenerateWithAdapter(client.get(), forwarded, &generated);
    if (!status.ok()) return services::FromGrpcStatus(status);
    *response->mutable_completions() = generated.completions();
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
