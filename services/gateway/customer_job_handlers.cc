// CustomerService job calls: create, get, list, cancel, watch and the event log.
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"
#include "services/gateway/auth.h"
#include "services/gateway/customer_service.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/job_creation.h"
#include "services/gateway/job_view.h"
#include "services/gateway/job_watch.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {

grpc::Status CustomerServiceImpl::CreateJob(grpc::ServerContext* context,
                                            const v1::CreateJobRequest* request,
                                            v1::Job* response) {
  return RunHandler("CreateJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(store::NewJob job,
                             PrepareCustomerJob(*context_, principal, *request));
    REFTUNE_ASSIGN_OR_RETURN(store::CreateJobResult created,
                             context_->jobs.CreateJob(principal.tenant_id, job));
    if (created.created) {
      LOG(INFO) << "Created job " << created.job.id << " for tenant " << principal.tenant_id
                << " (request_id \"" << job.request_id << "\")";
    }
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, created.job));
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::GetJob(grpc::ServerContext* context,
                                         const v1::GetJobRequest* request, v1::Job* response) {
  return RunHandler("GetJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord record,
                             context_->jobs.GetJob(principal.tenant_id, request->job_id()));
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, record));
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::ListJobs(grpc::ServerContext* context,
                                           const v1::ListJobsRequest* request,
                                           v1::ListJobsResponse* response) {
  return RunHandler("ListJobs", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    std::optional<jobs::JobState> state;
    if (request->state() != v1::JOB_STATE_UNSPECIFIED) {
      REFTUNE_ASSIGN_OR_RETURN(state, JobStateFromProto(request->state()));
    }
    store::PageRequest page{request->page_size(), request->page_token()};
    REFTUNE_ASSIGN_OR_RETURN(store::Page<store::JobRecord> listed,
                             context_->jobs.ListJobs(principal.tenant_id, page, state));
    for (const store::JobRecord& record : listed.items) {
      REFTUNE_ASSIGN_OR_RETURN(*response->add_jobs(), BuildJobView(*context_, record));
    }
    response->set_next_page_token(listed.next_page_token);
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::CancelJob(grpc::ServerContext* context,
                                            const v1::CancelJobRequest* request,
                                            v1::Job* response) {
  return RunHandler("CancelJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord record,
                             context_->jobs.CancelJob(principal.tenant_id, request->job_id()));
    LOG(INFO) << "Cancel of job " << record.id << " requested by tenant " << principal.tenant_id
              << "; state now " << jobs::JobStateName(record.state);
    REFTUNE_ASSIGN_OR_RETURN(*response, BuildJobView(*context_, record));
    return absl::OkStatus();
  });
}

grpc::Status CustomerServiceImpl::WatchJob(grpc::ServerContext* context,
                                           const v1::WatchJobRequest* request,
                                           grpc::ServerWriter<v1::JobEvent>* writer) {
  return RunHandler("WatchJob", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    if (request->after_sequence() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "after_sequence must be at least 0, got ", request->after_sequence()));
    }
    return StreamJobEvents(*context_, *context, principal.tenant_id, request->job_id(),
                           request->after_sequence(), writer);
  });
}

grpc::Status CustomerServiceImpl::ListJobEvents(grpc::ServerContext* context,
                                                const v1::ListJobEventsRequest* request,
                                                v1::ListJobEventsResponse* response) {
  return RunHandler("ListJobEvents", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             Authenticate(*context, context_->tenants));
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id is empty");
    store::PageRequest page{request->page_size() == 0 ? 100 : request->page_size(),
                            request->page_token()};
    REFTUNE_ASSIGN_OR_RETURN(
        store::Page<store::JobEvent> listed,
        context_->jobs.ListJobEvents(principal.tenant_id, request->job_id(), page));
    for (const store::JobEvent& event : listed.items) {
      *response->add_events() = JobEventToProto(event);
    }
    response->set_next_page_token(listed.next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
