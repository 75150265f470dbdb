#include "services/gateway/bootstrap.h"

#include "core/common/status_macros.h"
#include "core/store/operator_store.h"

namespace reftune::gateway {
namespace {

absl::StatusOr<std::optional<std::string>> FindOperatorTenant(store::OperatorStore& operations) {
  REFTUNE_ASSIGN_OR_RETURN(std::vector<store::Tenant> tenants, operations.ListTenants());
  for (const store::Tenant& tenant : tenants) {
    if (tenant.name == kOperatorTenantName) return std::optional<std::string>(tenant.id);
  }
  return std::optional<std::string>();
}

}  // namespace

absl::StatusOr<BootstrapResult> Bootstrap(store::Database* database, bool force_new_key) {
  store::TenantStore tenants(database);
  store::OperatorStore operations(database);

  BootstrapResult result;
  REFTUNE_ASSIGN_OR_RETURN(std::optional<std::string> existing, FindOperatorTenant(operations));
  if (existing.has_value()) {
    result.tenant_id = *existing;
  } else {
    absl::StatusOr<store::Tenant> created =
        tenants.CreateTenant(kOperatorTenantName, store::TenantLimits{});
    if (absl::IsAlreadyExists(created.status())) {
      // Another bootstrap created it a moment ago.
      REFTUNE_ASSIGN_OR_RETURN(existing, FindOperatorTenant(operations));
      if (!existing.has_value()) return created.status();
      result.tenant_id = *existing;
    } else if (!created.ok()) {
      return created.status();
    } else {
      result.tenant_id = created->id;
    }
  }

  REFTUNE_ASSIGN_OR_RETURN(bool has_key, operations.HasOperatorKey(result.tenant_id));
  if (has_key && !force_new_key) return result;
  REFTUNE_ASSIGN_OR_RETURN(store::IssuedApiKey key,
                           tenants.CreateApiKey(result.tenant_id, store::ApiKeyRole::kOperator,
                                                std::nullopt));
  result.key = std::move(key);
  return result;
}

}  // namespace reftune::gateway
