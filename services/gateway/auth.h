// Resolves the `authorization: Bearer <key>` metadata of a call to the tenant it acts for.
#ifndef REFTUNE_SERVICES_GATEWAY_AUTH_H_
#define REFTUNE_SERVICES_GATEWAY_AUTH_H_

#include "absl/status/statusor.h"
#include "core/store/tenant_store.h"
#include "grpcpp/server_context.h"

namespace reftune::gateway {

// UNAUTHENTICATED when the metadata is missing, not a bearer token, or the key is unknown,
// revoked or expired.
absl::StatusOr<store::Principal> Authenticate(const grpc::ServerContext& context,
                                              store::TenantStore& tenants);

// Like Authenticate, and PERMISSION_DENIED unless the key has the operator role.
absl::StatusOr<store::Principal> AuthenticateOperator(const grpc::ServerContext& context,
                                                      store::TenantStore& tenants);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_AUTH_H_
