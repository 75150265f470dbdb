// Tenants, their limits and their API keys.
#ifndef REFTUNE_CORE_STORE_TENANT_STORE_H_
#define REFTUNE_CORE_STORE_TENANT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"

namespace reftune::store {

struct TenantLimits {
  // Jobs of the tenant that may be in a non-terminal state at once; CreateJob beyond it is
  // RESOURCE_EXHAUSTED.
  int max_concurrent_jobs = 4;
  // Total size of the tenant's datasets that are not deleted, in bytes.
  int64_t max_dataset_bytes = int64_t{1} << 30;
};

struct Tenant {
  std::string id;
  std::string name;
  TenantLimits limits;
  absl::Time created_at;
};

enum class ApiKeyRole { kCustomer, kOperator };

struct ApiKeyRecord {
  std::string id;
  std::string tenant_id;
  // Public lookup part of the key, also shown to people to tell keys apart.
  std::string prefix;
  ApiKeyRole role = ApiKeyRole::kCustomer;
  absl::Time created_at;
  std::optional<absl::Time> expires_at;
  std::optional<absl::Time> revoked_at;
};

// A new key: `secret` is the full bearer token. Only its SHA-256 is stored, so this is the one time
// it can be shown.
struct IssuedApiKey {
  std::string secret;
  ApiKeyRecord record;
};

// Who an authenticated request acts for.
struct Principal {
  std::string tenant_id;
  std::string api_key_id;
  ApiKeyRole role = ApiKeyRole::kCustomer;
};

// Thread-safe; `database` must outlive the store.
class TenantStore {
 public:
  explicit TenantStore(Database* database) : database_(database) {}

  // ALREADY_EXISTS when a tenant with `name` exists, INVALID_ARGUMENT for an empty name or
  // non-positive limits.
  absl::StatusOr<Tenant> CreateTenant(const std::string& name, const TenantLimits& limits);
  absl::StatusOr<Tenant> GetTenant(const std::string& tenant_id);
  absl::Status SetLimits(const std::string& tenant_id, const TenantLimits& limits);

  // Issues a key "rtk_<prefix>_<secret>" with 256 random bits. `expires_at` unset means no expiry.
  absl::StatusOr<IssuedApiKey> CreateApiKey(const std::string& tenant_id, ApiKeyRole role,
                                            std::optional<absl::Time> expires_at);

  // Resolves a bearer token. UNAUTHENTICATED for a malformed, unknown, revoked or expired key,
  // with a message that does not reveal which.
  absl::StatusOr<Principal> Authenticate(const std::string& secret);

  // Marks a key revoked; NOT_FOUND when the tenant has no such key. Revoking twice is OK.
  absl::Status RevokeApiKey(const std::string& tenant_id, const std::string& api_key_id);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_TENANT_STORE_H_
