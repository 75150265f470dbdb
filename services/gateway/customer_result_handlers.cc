// CustomerService calls on a job's results and the model catalogue: the screening report, the
// adapter download and the base model list.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/store/paging.h"
#include "nlohmann/json.hpp"
#include "services/gateway/auth.h"
#include "services/gateway/customer_service.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/job_view.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

// Largest screening page, as documented in GetScreeningReportRequest.
constexpr int kMaxScreeningPageSize = 5000;
constexpr int kDefaultScreeningPageSize = 500;

absl::Status StreamFile(const std::string& folder, const v1::ArtifactFile& file, int chunk_bytes,
                        grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  const std::string path = folder + "/" + file.name();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("adapter file ", path, " cannot be read"));

  std::string buffer(chunk_bytes, '\0');
  int64_t offset = 0;
  while (true) {
    in.read(buffer.data(), chunk_bytes);
    const std::streamsize read = in.gcount();
    v1::ArtifactChunk chunk;
    chunk.set_file_name(file.name());
    chunk.set_offset(offset);
    chunk.set_data(buffer.data(), static_cast<size_t>(read));
    offset += read;
    chunk.set_last(!in || offset >= file.size_bytes());
    if (!writer->Write(chunk)) {
      return absl::CancelledError(absl::StrCat("client stopped the download of ", file.name()));
    }
    if (chunk.last()) return absl::OkStatus();
  }
}

}  // namespace

grpc::Status CustomerServiceImpl::GetScreeningReport(grpc::ServerContext* context,
                                                     const v1::GetScreeningReportRequest* request,
                                                     v1::GetScreeningReportResponse* response) {
  return RunHandler("GetScreeningReport", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_size must be at least 0, got ", request->page_size()));
    }
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->jobs.GetJob(principal.tenant_id, request->job_id()));

    const int page_size = request->page_size() == 0
                              ? kDefaultScreeningPageSize
                              : std::min(request->page_size(), kMaxScreeningPageSize);
    int64_t after_index = -1;
    if (!request->page_token().empty()) {
      REFTUNE_ASSIGN_OR_RETURN(after_index, store::DecodeSequenceCursor(request->page_token()));
    }
    // One row more than the page shows whether another page follows.
    REFTUNE_ASSIGN_OR_RETURN(std::vector<store::ScreeningResult> results,
                             context_->screening.ListResults(job.id, after_index, page_size + 1,
                                                             request->filtered_only()));
    for (const store::ScreeningResult& result : results) {
      if (response->records_size() == page_size) {
        response->set_next_page_token(
            store::EncodeSequenceCursor(response->records(page_size - 1).index()));
        break;
      }
      v1::ScreeningRecord* record = response->add_records();
      record->set_index(result.record_index);
      record->set_line(result.line);
      record->set_score(result.score);
      record->set_filtered(result.filtered);
    }

    // The worker's summary carries the threshold and layer; the counts come from the rows.
    REFTUNE_ASSIGN_OR_RETURN(v1::Job view, BuildJobView(*context_, job));
    *response->mutable_summary() = view.screening();
    REFTUNE_ASSIGN_OR_RETURN(store::ScreeningCounts counts, context_->screening.CountResults(job.id));
    response->mutable_summary()->set_records_screened(counts.screened);
    response->mutable_summary()->set_records_filtered(counts.filtered);
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::DownloadArtifact(grpc::ServerContext* context,
                                                   const v1::DownloadArtifactRequest* request,
                                                   grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  return RunHandler("DownloadArtifact", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->jobs.GetJob(principal.tenant_id, request->job_id()));
    if (job.state != jobs::JobState::kSucceeded) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", job.id, " is ", jobs::JobStateName(job.state),
          "; its adapter can be downloaded once it is SUCCEEDED"));
    }

    REFTUNE_ASSIGN_OR_RETURN(std::string folder, AdapterFolder(*context_, job.id));
    REFTUNE_ASSIGN_OR_RETURN(std::vector<v1::ArtifactFile> files, ListAdapterFiles(folder));
    if (files.empty()) {
      return absl::NotFoundError(absl::StrCat("job ", job.id, " has no adapter files in ", folder));
    }
    if (!request->file_name().empty()) {
      auto it = std::find_if(files.begin(), files.end(), [&](const v1::ArtifactFile& file) {
        return file.name() == request->file_name();
      });
      if (it == files.end()) {
        return absl::NotFoundError(absl::StrCat("job ", job.id, " has no adapter file \"",
                                                request->file_name(), "\"; GetJob lists them"));
      }
      files = {*it};
    }
    for (const v1::ArtifactFile& file : files) {
      REFTUNE_RETURN_IF_ERROR(
          StreamFile(folder, file, context_->options.download_chunk_bytes, writer));
    }
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::ListBaseModels(grpc::ServerContext* context,
                                                 const v1::ListBaseModelsRequest* request,
                                                 v1::ListBaseModelsResponse* response) {
  return RunHandler("ListBaseModels", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(std::vector<store::BaseModelRecord> models,
                             context_->base_models.List());
    for (const store::BaseModelRecord& model : models) {
      *response->add_base_models() = BaseModelToProto(model);
    }
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
