// Authentication and tenant isolation at the gateway.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/gateway/gateway_fixture.h"

namespace reftune::gateway {
namespace {

using ::testing::HasSubstr;

grpc::StatusCode ListDatasetsCode(v1::CustomerService::Stub& stub, grpc::ClientContext* context) {
  v1::ListDatasetsResponse response;
  return stub.ListDatasets(context, v1::ListDatasetsRequest(), &response).error_code();
}

TEST_F(GatewayTest, MissingKeyIsUnauthenticated) {
  EXPECT_EQ(ListDatasetsCode(*customer_, CallWith("").get()), grpc::StatusCode::UNAUTHENTICATED);

  auto basic = CallWith("");
  basic->AddMetadata("authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(ListDatasetsCode(*customer_, basic.get()), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayTest, UnknownKeyIsUnauthenticated) {
  EXPECT_EQ(ListDatasetsCode(*customer_, CallWith("rtk_000000000000_deadbeef").get()),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListDatasetsCode(*customer_, CallWith("not-a-key").get()),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayTest, RevokedKeyIsUnauthenticated) {
  const TestTenant tenant = CreateTenant("acme");
  ASSERT_EQ(ListDatasetsCode(*customer_, CallWith(tenant.secret).get()), grpc::StatusCode::OK);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(tenant.key_id);
  v1::ApiKey revoked;
  ASSERT_TRUE(operator_->RevokeApiKey(CallWith(operator_secret_).get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());

  EXPECT_EQ(ListDatasetsCode(*customer_, CallWith(tenant.secret).get()),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayTest, ExpiredKeyIsUnauthenticated) {
  const TestTenant tenant = CreateTenant("acme");
  absl::StatusOr<store::IssuedApiKey> expired = gateway_->context().tenants.CreateApiKey(
      tenant.id, store::ApiKeyRole::kCustomer, absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(expired.ok()) << expired.status();

  EXPECT_EQ(ListDatasetsCode(*customer_, CallWith(expired->secret).get()),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayTest, CustomerKeyCannotCallOperatorApi) {
  const TestTenant tenant = CreateTenant("acme");
  v1::ListTenantsResponse tenants;
  const grpc::Status status =
      operator_->ListTenants(CallWith(tenant.secret).get(), v1::ListTenantsRequest(), &tenants);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("operator"));
  EXPECT_TRUE(
      operator_->ListTenants(CallWith(operator_secret_).get(), v1::ListTenantsRequest(), &tenants)
          .ok());
  EXPECT_EQ(tenants.tenants_size(), 2);
}

TEST_F(GatewayTest, TenantCannotSeeOtherTenantsData) {
  RegisterStoriesModel();
  const TestTenant owner = CreateTenant("owner");
  const TestTenant other = CreateTenant("other");
  v1::Dataset dataset;
  ASSERT_TRUE(Upload(owner.secret, "private", ValidDataset(3), 64, &dataset).ok());
  v1::Job job;
  grpc::Status created =
      customer_->CreateJob(CallWith(owner.secret).get(), SftJob(dataset.id(), "r1"), &job);
  ASSERT_TRUE(created.ok()) << created.error_message();

  v1::GetDatasetRequest get_dataset;
  get_dataset.set_dataset_id(dataset.id());
  v1::Dataset seen;
  EXPECT_EQ(customer_->GetDataset(CallWith(other.secret).get(), get_dataset, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetJobRequest get_job;
  get_job.set_job_id(job.id());
  v1::Job seen_job;
  EXPECT_EQ(customer_->GetJob(CallWith(other.secret).get(), get_job, &seen_job).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.id());
  EXPECT_EQ(customer_->CancelJob(CallWith(other.secret).get(), cancel, &seen_job).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Using the other tenant's dataset in a job is NOT_FOUND too.
  EXPECT_EQ(customer_->CreateJob(CallWith(other.secret).get(), SftJob(dataset.id(), "r2"),
                                 &seen_job)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ListJobsResponse jobs;
  ASSERT_TRUE(customer_->ListJobs(CallWith(other.secret).get(), v1::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
  v1::ListDatasetsResponse datasets;
  ASSERT_TRUE(
      customer_->ListDatasets(CallWith(other.secret).get(), v1::ListDatasetsRequest(), &datasets)
          .ok());
  EXPECT_EQ(datasets.datasets_size(), 0);
}

}  // namespace
}  // namespace reftune::gateway
