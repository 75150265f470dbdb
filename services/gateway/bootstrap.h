// First-run set-up: the operator tenant and its first operator key.
#ifndef REFTUNE_SERVICES_GATEWAY_BOOTSTRAP_H_
#define REFTUNE_SERVICES_GATEWAY_BOOTSTRAP_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/store/database.h"
#include "core/store/tenant_store.h"

namespace reftune::gateway {

// Name of the tenant that owns operator keys and operator-registered datasets.
inline constexpr char kOperatorTenantName[] = "operators";

struct BootstrapResult {
  std::string tenant_id;
  // Set only when this run created a key; the secret exists nowhere else.
  std::optional<store::IssuedApiKey> key;
};

// Creates the operator tenant if missing and an operator key unless the tenant already has one.
// `force_new_key` creates a key even then. Safe to run again; a second run creates nothing.
absl::StatusOr<BootstrapResult> Bootstrap(store::Database* database, bool force_new_key);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_BOOTSTRAP_H_
