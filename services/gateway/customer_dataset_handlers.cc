// CustomerService dataset calls: upload, get, list and delete.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "services/gateway/auth.h"
#include "services/gateway/customer_service.h"
#include "services/gateway/dataset_ingest.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

// Reads the upload's header, then streams every chunk into the ingest.
absl::Status ReceiveUpload(GatewayContext& context, const store::Principal& principal,
                           grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                           v1::Dataset* response) {
  v1::UploadDatasetRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    return absl::InvalidArgumentError(
        "the first UploadDataset message must carry the header (name, purpose, size, sha256)");
  }
  const v1::UploadDatasetHeader& header = message.header();
  if (header.purpose() != v1::DATASET_PURPOSE_UNSPECIFIED &&
      header.purpose() != v1::DATASET_PURPOSE_FINETUNE &&
      principal.role != store::ApiKeyRole::kOperator) {
    return absl::PermissionDeniedError(absl::StrCat(
        "purpose ", v1::DatasetPurpose_Name(header.purpose()),
        " needs an operator key; customer uploads are DATASET_PURPOSE_FINETUNE"));
  }

  IngestExpectations expectations;
  expectations.name = header.name();
  expectations.purpose = header.purpose();
  expectations.size_bytes = header.size_bytes();
  expectations.sha256 = header.sha256();
  REFTUNE_ASSIGN_OR_RETURN(std::unique_ptr<DatasetIngest> ingest,
                           DatasetIngest::Begin(&context, principal.tenant_id, expectations));

  while (reader->Read(&message)) {
    if (message.has_header()) {
      return absl::InvalidArgumentError("the header must be the first message, and only the first");
    }
    REFTUNE_RETURN_IF_ERROR(ingest->Append(message.chunk()));
  }
  REFTUNE_ASSIGN_OR_RETURN(*response, ingest->Finish());
  return absl::OkStatus();
}

absl::StatusOr<std::string> PurposeOf(GatewayContext& context, const std::string& dataset_id) {
  REFTUNE_ASSIGN_OR_RETURN(auto purposes, context.dataset_catalog.Purposes({dataset_id}));
  auto it = purposes.find(dataset_id);
  return it == purposes.end() ? std::string(store::kFinetunePurpose) : it->second;
}

}  // namespace

grpc::Status CustomerServiceImpl::UploadDataset(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
    v1::Dataset* response) {
  return RunHandler("UploadDataset", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    return ReceiveUpload(*context_, principal, reader, response);
  });
}

grpc::Status CustomerServiceImpl::GetDataset(grpc::ServerContext* context,
                                             const v1::GetDatasetRequest* request,
                                             v1::Dataset* response) {
  return RunHandler("GetDataset", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->dataset_id().empty()) return absl::InvalidArgumentError("dataset_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::DatasetRecord record,
                             context_->datasets.GetDataset(principal.tenant_id,
                                                           request->dataset_id()));
    REFTUNE_ASSIGN_OR_RETURN(std::string purpose, PurposeOf(*context_, record.id));
    *response = DatasetToProto(record, purpose);
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::ListDatasets(grpc::ServerContext* context,
                                               const v1::ListDatasetsRequest* request,
                                               v1::ListDatasetsResponse* response) {
  return RunHandler("ListDatasets", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    store::PageRequest page{request->page_size(), request->page_token()};
    REFTUNE_ASSIGN_OR_RETURN(store::Page<store::DatasetRecord> listed,
                             context_->datasets.ListDatasets(principal.tenant_id, page));

    std::vector<std::string> ids;
    for (const store::DatasetRecord& record : listed.items) ids.push_back(record.id);
    REFTUNE_ASSIGN_OR_RETURN(auto purposes, context_->dataset_catalog.Purposes(ids));
    for (const store::DatasetRecord& record : listed.items) {
      auto it = purposes.find(record.id);
      *response->add_datasets() = DatasetToProto(
          record, it == purposes.end() ? std::string(store::kFinetunePurpose) : it->second);
    }
    response->set_next_page_token(listed.next_page_token);
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::DeleteDataset(grpc::ServerContext* context,
                                                const v1::DeleteDatasetRequest* request,
                                                v1::DeleteDatasetResponse* response) {
  return RunHandler("DeleteDataset", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->dataset_id().empty()) return absl::InvalidArgumentError("dataset_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(
        std::string job_id,
        context_->dataset_catalog.ActiveJobUsing(principal.tenant_id, request->dataset_id()));
    if (!job_id.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset ", request->dataset_id(), " is used by unfinished job ", job_id,
                       "; cancel the job or wait for it to finish"));
    }
    return context_->datasets.DeleteDataset(principal.tenant_id, request->dataset_id());
  });
}

}  // namespace reftune::gateway
