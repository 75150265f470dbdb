// The customer API (reftune.v1.CustomerService). Every handler runs the same steps in order:
// authenticate, validate the request, call the stores, convert the status.
#ifndef REFTUNE_SERVICES_GATEWAY_CUSTOMER_SERVICE_H_
#define REFTUNE_SERVICES_GATEWAY_CUSTOMER_SERVICE_H_

#include "reftune/v1/customer_service.grpc.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

// Thread-safe; `context` must outlive the service.
class CustomerServiceImpl final : public v1::CustomerService::Service {
 public:
  explicit CustomerServiceImpl(GatewayContext* context) : context_(context) {}

  // Datasets (customer_dataset_handlers.cc).
  grpc::Status UploadDataset(grpc::ServerContext* context,
                             grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::Dataset* response) override;
  grpc::Status GetDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                          v1::Dataset* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context,
                             const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;

  // Jobs (customer_job_handlers.cc, job_creation.cc).
  grpc::Status CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request,
                         v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override;
  grpc::Status ListJobEvents(grpc::ServerContext* context,
                             const v1::ListJobEventsRequest* request,
                             v1::ListJobEventsResponse* response) override;

  // Results and models (customer_result_handlers.cc, filter_calls.cc).
  grpc::Status GetScreeningReport(grpc::ServerContext* context,
                                  const v1::GetScreeningReportRequest* request,
                                  v1::GetScreeningReportResponse* response) override;
  grpc::Status DownloadArtifact(grpc::ServerContext* context,
                                const v1::DownloadArtifactRequest* request,
                                grpc::ServerWriter<v1::ArtifactChunk>* writer) override;
  grpc::Status ListBaseModels(grpc::ServerContext* context,
                              const v1::ListBaseModelsRequest* request,
                              v1::ListBaseModelsResponse* response) override;
  grpc::Status ScreenDataset(grpc::ServerContext* context,
                             const v1::ScreenDatasetRequest* request,
                             grpc::ServerWriter<v1::ScreenDatasetResponse>* writer) override;
  grpc::Status Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                        v1::GenerateResponse* response) override;

 private:
  GatewayContext* context_;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_CUSTOMER_SERVICE_H_
