// OperatorService calls on workers and stuck jobs.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"
#include "services/gateway/auth.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/job_view.h"
#include "services/gateway/operator_service.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {

grpc::Status OperatorServiceImpl::ListWorkers(grpc::ServerContext* context,
                                              const v1::ListWorkersRequest* request,
                                              v1::ListWorkersResponse* response) {
  return RunHandler("ListWorkers", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(std::vector<store::WorkerRecord> workers,
                             context_->operations.ListWorkers());
    for (const store::WorkerRecord& worker : workers) {
      *response->add_workers() = WorkerToProto(worker);
    }
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::RequeueJob(grpc::ServerContext* context,
                                             const v1::RequeueJobRequest* request,
                                             v1::Job* response) {
  return RunHandler("RequeueJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    const std::string reason = request->reason().empty() ? "no reason given" : request->reason();
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->operations.RequeueJob(request->job_id(), reason));
    LOG(INFO) << "Operator key " << principal.api_key_id << " requeued job " << job.id << ": "
              << reason;
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, job));
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::FailJob(grpc::ServerContext* context,
                                          const v1::FailJobRequest* request, v1::Job* response) {
  return RunHandler("FailJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    if (request->reason().empty()) {
      return absl::InvalidArgumentError("reason is required; the customer sees it");
    }
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->operations.FailJob(request->job_id(), request->reason()));
    LOG(INFO) << "Operator key " << principal.api_key_id << " failed job " << job.id << ": "
              << request->reason();
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, job));
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::GetAnyJob(grpc::ServerContext* context,
                                            const v1::GetJobRequest* request, v1::Job* response) {
  return RunHandler("GetAnyJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job,
                             context_->jobs.GetJobForWorker(request->job_id()));
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, job));
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
