#include "core/store/tenant_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/store/sql_values.h"

namespace reftune::store {
namespace {

constexpr absl::string_view kKeyScheme = "rtk";
constexpr int kPrefixBytes = 6;
constexpr int kSecretBytes = 32;

absl::Status ValidateLimits(const TenantLimits& limits) {
  if (limits.max_concurrent_jobs < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_concurrent_jobs must be at least 1, got ", limits.max_concurrent_jobs));
  }
  if (limits.max_dataset_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_dataset_bytes must be at least 1, got ", limits.max_dataset_bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RandomHex(int bytes) {
  std::string buffer(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buffer.data()), bytes) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed to produce an API key");
  }
  return absl::BytesToHexString(buffer);
}

absl::string_view RoleName(ApiKeyRole role) {
  return role == ApiKeyRole::kOperator ? "operator" : "customer";
}

const std::string kTenantColumns =
    "t.id, t.name, l.max_concurrent_jobs, l.max_dataset_bytes, " + MicrosColumn("t.created_at");

Tenant TenantFromRow(const pqxx::row& row) {
  Tenant tenant;
  tenant.id = row[0].as<std::string>();
  tenant.name = row[1].as<std::string>();
  tenant.limits.max_concurrent_jobs = row[2].as<int>();
  tenant.limits.max_dataset_bytes = row[3].as<int64_t>();
  tenant.created_at = TimeField(row[4]);
  return tenant;
}

}  // namespace

absl::StatusOr<Tenant> TenantStore::CreateTenant(const std::string& name,
                                                 const TenantLimits& limits) {
  if (name.empty()) return absl::InvalidArgumentError("tenant name is empty");
  if (absl::Status status = ValidateLimits(limits); !status.ok()) return status;

  absl::StatusOr<Tenant> tenant = database_->TransactFor<Tenant>(
      absl::StrCat("create tenant \"", name, "\""), [&](pqxx::work& txn) -> absl::StatusOr<Tenant> {
        pqxx::row inserted = txn.exec_params1(
            "INSERT INTO tenants (name) VALUES ($1) RETURNING id", name);
        const std::string id = inserted[0].as<std::string>();
        txn.exec_params(
            "INSERT INTO tenant_limits (tenant_id, max_concurrent_jobs, max_dataset_bytes) "
            "VALUES ($1, $2, $3)",
            id, limits.max_concurrent_jobs, limits.max_dataset_bytes);
        return TenantFromRow(txn.exec_params1(
            "SELECT " + kTenantColumns +
                " FROM tenants t JOIN tenant_limits l ON l.tenant_id = t.id WHERE t.id = $1",
            id));
      });
  if (absl::IsAlreadyExists(tenant.status())) {
    return absl::AlreadyExistsError(absl::StrCat("tenant \"", name, "\" already exists"));
  }
  return tenant;
}

absl::StatusOr<Tenant> TenantStore::GetTenant(const std::string& tenant_id) {
  return database_->TransactFor<Tenant>(
      absl::StrCat("get tenant ", tenant_id), [&](pqxx::work& txn) -> absl::StatusOr<Tenant> {
        pqxx::result rows = txn.exec_params(
            "SELECT " + kTenantColumns +
                " FROM tenants t JOIN tenant_limits l ON l.tenant_id = t.id WHERE t.id = $1",
            tenant_id);
        if (rows.empty()) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
        return TenantFromRow(rows[0]);
      });
}

absl::Status TenantStore::SetLimits(const std::string& tenant_id, const TenantLimits& limits) {
  if (absl::Status status = ValidateLimits(limits); !status.ok()) return status;
  return database_->Transact(
      absl::StrCat("set limits of tenant ", tenant_id), [&](pqxx::work& txn) -> absl::Status {
        pqxx::result updated = txn.exec_params(
            "UPDATE tenant_limits SET max_concurrent_jobs = $2, max_dataset_bytes = $3 "
            "WHERE tenant_id = $1",
            tenant_id, limits.max_concurrent_jobs, limits.max_dataset_bytes);
        if (updated.affected_rows() == 0) {
          return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<IssuedApiKey> TenantStore::CreateApiKey(const std::string& tenant_id,
                                                       ApiKeyRole role,
                                                       std::optional<absl::Time> expires_at) {
  absl::StatusOr<std::string> prefix = RandomHex(kPrefixBytes);
  if (!prefix.ok()) return prefix.status();
  absl::StatusOr<std::string> secret_part = RandomHex(kSecretBytes);
  if (!secret_part.ok()) return secret_part.status();
  const std::string secret = absl::StrCat(kKeyScheme, "_", *prefix, "_", *secret_part);

  std::optional<std::string> expires_micros;
  if (expires_at.has_value()) expires_micros = absl::StrCat(absl::ToUnixMicros(*expires_at));

  absl::StatusOr<IssuedApiKey> issued = database_->TransactFor<IssuedApiKey>(
      absl::StrCat("create API key for tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::StatusOr<IssuedApiKey> {
        pqxx::row row = txn.exec_params1(
            "INSERT INTO api_keys (tenant_id, prefix, key_sha256, role, expires_at) "
            "VALUES ($1, $2, $3, $4, timestamptz 'epoch' + $5::bigint * interval '1 microsecond') "
            "RETURNING id, " + MicrosColumn("created_at") + ", " + MicrosColumn("expires_at"),
            tenant_id, *prefix, Sha256Hex(secret), std::string(RoleName(role)),
            NullableParam(expires_micros));
        IssuedApiKey key;
        key.secret = secret;
        key.record.id = row[0].as<std::string>();
        key.record.tenant_id = tenant_id;
        key.record.prefix = *prefix;
        key.record.role = role;
        key.record.created_at = TimeField(row[1]);
        key.record.expires_at = OptionalTimeField(row[2]);
        return key;
      });
  if (absl::IsFailedPrecondition(issued.status())) {
    return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
  }
  return issued;
}

absl::StatusOr<Principal> TenantStore::Authenticate(const std::string& secret) {
  const absl::Status rejected = absl::UnauthenticatedError(
      "API key is invalid, revoked or expired; pass a current key as \"authorization: Bearer "
      "rtk_...\"");
  std::vector<absl::string_view> parts = absl::StrSplit(secret, '_');
  if (parts.size() != 3 || parts[0] != kKeyScheme || parts[1].size() != 2 * kPrefixBytes) {
    return rejected;
  }
  const std::string prefix(parts[1]);
  const std::string presented_hash = Sha256Hex(secret);

  return database_->TransactFor<Principal>(
      absl::StrCat("authenticate API key ", prefix),
      [&](pqxx::work& txn) -> absl::StatusOr<Principal> {
        pqxx::result rows = txn.exec_params(
            "SELECT id, tenant_id, role, key_sha256 FROM api_keys WHERE prefix = $1 "
            "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
            prefix);
        if (rows.empty()) return rejected;
        const std::string stored_hash = rows[0][3].as<std::string>();
        // Constant-time comparison, so response times reveal nothing about the stored hash.
        if (stored_hash.size() != presented_hash.size() ||
            CRYPTO_memcmp(stored_hash.data(), presented_hash.data(), stored_hash.size()) != 0) {
          return rejected;
        }
        Principal principal;
        principal.api_key_id = rows[0][0].as<std::string>();
        principal.tenant_id = rows[0][1].as<std::string>();
        principal.role =
            rows[0][2].as<std::string>() == "operator" ? ApiKeyRole::kOperator : ApiKeyRole::kCustomer;
        return principal;
      });
}

absl::Status TenantStore::RevokeApiKey(const std::string& tenant_id,
                                       const std::string& api_key_id) {
  return database_->Transact(
      absl::StrCat("revoke API key ", api_key_id, " of tenant ", tenant_id),
      [&](pqxx::work& txn) -> absl::Status {
        pqxx::result updated = txn.exec_params(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
            "WHERE id = $1 AND tenant_id = $2",
            api_key_id, tenant_id);
        if (updated.affected_rows() == 0) {
          return absl::NotFoundError(absl::StrCat("API key ", api_key_id, " not found"));
        }
        return absl::OkStatus();
      });
}

}  // namespace reftune::store
