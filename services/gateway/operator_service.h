// The operator API (reftune.v1.OperatorService). Every call needs an operator key; handlers run
// authenticate, validate, call the stores, convert the status, in that order.
#ifndef REFTUNE_SERVICES_GATEWAY_OPERATOR_SERVICE_H_
#define REFTUNE_SERVICES_GATEWAY_OPERATOR_SERVICE_H_

#include "reftune/v1/operator_service.grpc.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

// Thread-safe; `context` must outlive the service.
class OperatorServiceImpl final : public v1::OperatorService::Service {
 public:
  explicit OperatorServiceImpl(GatewayContext* context) : context_(context) {}

  // Models, datasets and teachers (operator_model_handlers.cc).
  grpc::Status RegisterBaseModel(grpc::ServerContext* context,
                                 const v1::RegisterBaseModelRequest* request,
                                 v1::BaseModel* response) override;
  grpc::Status RegisterDataset(grpc::ServerContext* context,
                               const v1::RegisterDatasetRequest* request,
                               v1::Dataset* response) override;
  grpc::Status CreateTeacherJob(grpc::ServerContext* context,
                                const v1::CreateTeacherJobRequest* request,
                                v1::Job* response) override;
  grpc::Status ListTeachers(grpc::ServerContext* context, const v1::ListTeachersRequest* request,
                            v1::ListTeachersResponse* response) override;
  grpc::Status PromoteTeacher(grpc::ServerContext* context,
                              const v1::PromoteTeacherRequest* request,
                              v1::Teacher* response) override;

  // Tenants and keys (operator_tenant_handlers.cc).
  grpc::Status CreateTenant(grpc::ServerContext* context, const v1::CreateTenantRequest* request,
                            v1::Tenant* response) override;
  grpc::Status ListTenants(grpc::ServerContext* context, const v1::ListTenantsRequest* request,
                           v1::ListTenantsResponse* response) override;
  grpc::Status CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;
  grpc::Status SetTenantLimits(grpc::ServerContext* context,
                               const v1::SetTenantLimitsRequest* request,
                               v1::Tenant* response) override;

  // Workers and stuck jobs (operator_job_handlers.cc).
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status RequeueJob(grpc::ServerContext* context, const v1::RequeueJobRequest* request,
                          v1::Job* response) override;
  grpc::Status FailJob(grpc::ServerContext* context, const v1::FailJobRequest* request,
                       v1::Job* response) override;
  grpc::Status GetAnyJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                         v1::Job* response) override;

 private:
  GatewayContext* context_;
};

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_OPERATOR_SERVICE_H_
