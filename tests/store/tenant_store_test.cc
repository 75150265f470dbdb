#include "core/store/tenant_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/test_database.h"

namespace reftune::store {
namespace {

using ::testing::HasSubstr;

class TenantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = OpenTestDatabase();
    ASSERT_NE(database_, nullptr);
    store_ = std::make_unique<TenantStore>(database_.get());
  }
  std::unique_ptr<Database> database_;
  std::unique_ptr<TenantStore> store_;
};

TEST_F(TenantStoreTest, CreateReadsBackLimits) {
  absl::StatusOr<Tenant> tenant = store_->CreateTenant("acme", TenantLimits{3, 5000});
  ASSERT_TRUE(tenant.ok()) << tenant.status();
  absl::StatusOr<Tenant> read = store_->GetTenant(tenant->id);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->name, "acme");
  EXPECT_EQ(read->limits.max_concurrent_jobs, 3);
  EXPECT_EQ(read->limits.max_dataset_bytes, 5000);

  EXPECT_EQ(store_->CreateTenant("acme", {}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateTenant("zero", TenantLimits{0, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetTenant("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TenantStoreTest, KeyAuthenticatesUntilRevoked) {
  absl::StatusOr<Tenant> tenant = store_->CreateTenant("acme", {});
  ASSERT_TRUE(tenant.ok());
  absl::StatusOr<IssuedApiKey> key =
      store_->CreateApiKey(tenant->id, ApiKeyRole::kOperator, std::nullopt);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(key->secret, HasSubstr("rtk_" + key->record.prefix + "_"));

  absl::StatusOr<Principal> principal = store_->Authenticate(key->secret);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->tenant_id, tenant->id);
  EXPECT_EQ(principal->role, ApiKeyRole::kOperator);

  ASSERT_TRUE(store_->RevokeApiKey(tenant->id, key->record.id).ok());
  EXPECT_EQ(store_->Authenticate(key->secret).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TenantStoreTest, BadKeysAreUnauthenticated) {
  absl::StatusOr<Tenant> tenant = store_->CreateTenant("acme", {});
  ASSERT_TRUE(tenant.ok());
  absl::StatusOr<IssuedApiKey> key =
      store_->CreateApiKey(tenant->id, ApiKeyRole::kCustomer, std::nullopt);
  absl::StatusOr<IssuedApiKey> expired = store_->CreateApiKey(
      tenant->id, ApiKeyRole::kCustomer, absl::Now() - absl::Minutes(1));
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(expired.ok()) << expired.status();

  std::string wrong_secret = key->secret;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  const std::string cases[] = {"", "Bearer x", "rtk_short_abc", wrong_secret, expired->secret};
  for (const std::string& secret : cases) {
    SCOPED_TRACE(secret);
    absl::StatusOr<Principal> principal = store_->Authenticate(secret);
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST_F(TenantStoreTest, KeysAreStoredHashed) {
  absl::StatusOr<Tenant> tenant = store_->CreateTenant("acme", {});
  ASSERT_TRUE(tenant.ok());
  absl::StatusOr<IssuedApiKey> key =
      store_->CreateApiKey(tenant->id, ApiKeyRole::kCustomer, std::nullopt);
  ASSERT_TRUE(key.ok());
  absl::StatusOr<int64_t> plain = database_->TransactFor<int64_t>(
      "search key text", [&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
        return txn.exec_params1("SELECT count(*) FROM api_keys WHERE key_sha256 = $1 "
                                "OR position($1 IN key_sha256) > 0",
                                key->secret)[0].as<int64_t>();
      });
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, 0);
}

TEST_F(TenantStoreTest, RevokeUnknownKeyIsNotFound) {
  absl::StatusOr<Tenant> tenant = store_->CreateTenant("acme", {});
  ASSERT_TRUE(tenant.ok());
  absl::Status status = store_->RevokeApiKey(tenant->id, "missing");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("missing"));
}

}  // namespace
}  // namespace reftune::store
