// OperatorService tenant calls: tenants, API keys and limits.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"
#include "services/gateway/auth.h"
#include "services/gateway/handler_support.h"
#include "services/gateway/operator_service.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

// Tenant and base model names: 1 to 100 characters of [A-Za-z0-9._-].
absl::Status CheckName(absl::string_view field, const std::string& name) {
  const bool valid = !name.empty() && name.size() <= 100 &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
                     });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be 1 to 100 characters of [A-Za-z0-9._-], got \"", name, "\""));
}

}  // namespace

grpc::Status OperatorServiceImpl::CreateTenant(grpc::ServerContext* context,
                                               const v1::CreateTenantRequest* request,
                                               v1::Tenant* response) {
  return RunHandler("CreateTenant", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_RETURN_IF_ERROR(CheckName("name", request->name()));
    REFTUNE_ASSIGN_OR_RETURN(
        store::Tenant tenant,
        context_->tenants.CreateTenant(request->name(), context_->options.default_tenant_limits));
    LOG(INFO) << "Created tenant " << tenant.id << " (\"" << tenant.name << "\")";
    *response = TenantToProto(tenant);
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::ListTenants(grpc::ServerContext* context,
                                              const v1::ListTenantsRequest* request,
                                              v1::ListTenantsResponse* response) {
  return RunHandler("ListTenants", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    REFTUNE_ASSIGN_OR_RETURN(std::vector<store::Tenant> tenants,
                             context_->operations.ListTenants());
    for (const store::Tenant& tenant : tenants) *response->add_tenants() = TenantToProto(tenant);
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::CreateApiKey(grpc::ServerContext* context,
                                               const v1::CreateApiKeyRequest* request,
                                               v1::CreateApiKeyResponse* response) {
  return RunHandler("CreateApiKey", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->tenant_id().empty()) return absl::InvalidArgumentError("tenant_id is empty");
    if (request->ttl_seconds() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ttl_seconds must be at least 0, got ", request->ttl_seconds()));
    }
    const store::ApiKeyRole role = request->role() == v1::API_KEY_ROLE_OPERATOR
                                       ? store::ApiKeyRole::kOperator
                                       : store::ApiKeyRole::kCustomer;
    std::optional<absl::Time> expires_at;
    if (request->ttl_seconds() > 0) expires_at = absl::Now() + absl::Seconds(request->ttl_seconds());

    REFTUNE_ASSIGN_OR_RETURN(store::IssuedApiKey issued,
                             context_->tenants.CreateApiKey(request->tenant_id(), role, expires_at));
    LOG(INFO) << "Created API key " << issued.record.id << " (prefix " << issued.record.prefix
              << ") for tenant " << request->tenant_id();
    *response->mutable_key() = ApiKeyToProto(issued.record);
    response->set_secret(issued.secret);
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::RevokeApiKey(grpc::ServerContext* context,
                                               const v1::RevokeApiKeyRequest* request,
                                               v1::ApiKey* response) {
  return RunHandler("RevokeApiKey", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->key_id().empty()) return absl::InvalidArgumentError("key_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::ApiKeyRecord key,
                             context_->operations.GetApiKey(request->key_id()));
    REFTUNE_RETURN_IF_ERROR(context_->tenants.RevokeApiKey(key.tenant_id, key.id));
    REFTUNE_ASSIGN_OR_RETURN(key, context_->operations.GetApiKey(request->key_id()));
    LOG(INFO) << "Revoked API key " << key.id << " of tenant " << key.tenant_id;
    *response = ApiKeyToProto(key);
    return absl::OkStatus();
  });
}

grpc::Status OperatorServiceImpl::SetTenantLimits(grpc::ServerContext* context,
                                                  const v1::SetTenantLimitsRequest* request,
                                                  v1::Tenant* response) {
  return RunHandler("SetTenantLimits", [&]() -> absl::Status {
    REFTUNE_ASSIGN_OR_RETURN(store::Principal principal,
                             AuthenticateOperator(*context, context_->tenants));
    if (request->tenant_id().empty()) return absl::InvalidArgumentError("tenant_id is empty");
    REFTUNE_ASSIGN_OR_RETURN(store::Tenant tenant,
                             context_->tenants.GetTenant(request->tenant_id()));
    store::TenantLimits limits = tenant.limits;
    if (request->has_max_concurrent_jobs()) limits.max_concurrent_jobs = request->max_concurrent_jobs();
    if (request->has_max_dataset_bytes()) limits.max_dataset_bytes = request->max_dataset_bytes();
    REFTUNE_RETURN_IF_ERROR(context_->tenants.SetLimits(tenant.id, limits));
    LOG(INFO) << "Tenant " << tenant.id << " limits: " << limits.max_concurrent_jobs
              << " concurrent jobs, " << limits.max_dataset_bytes << " dataset bytes";
    tenant.limits = limits;
    *response = TenantToProto(tenant);
    return absl::OkStatus();
  });
}

}  // namespace reftune::gateway
