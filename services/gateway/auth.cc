#include "services/gateway/auth.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace reftune::gateway {
namespace {

constexpr absl::string_view kBearerPrefix = "Bearer ";

}  // namespace

absl::StatusOr<store::Principal> Authenticate(const grpc::ServerContext& context,
                                              store::TenantStore& tenants) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing authorization metadata; send \"authorization: Bearer <api key>\"");
  }
  const absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWithIgnoreCase(value, kBearerPrefix)) {
    return absl::UnauthenticatedError(
        "authorization metadata is not a bearer token; send \"Bearer <api key>\"");
  }
  const std::string secret(absl::StripAsciiWhitespace(value.substr(kBearerPrefix.size())));
  return tenants.Authenticate(secret);
}

absl::StatusOr<store::Principal> AuthenticateOperator(const grpc::ServerContext& context,
                                                      store::TenantStore& tenants) {
  absl::StatusOr<store::Principal> principal = Authenticate(context, tenants);
  if (!principal.ok()) return principal;
  if (principal->role != store::ApiKeyRole::kOperator) {
    return absl::PermissionDeniedError(
        "this call needs an operator API key; the key sent has the customer role");
  }
  return principal;
}

}  // namespace reftune::gateway
