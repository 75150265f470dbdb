// Uploads through the real gateway: chunked streams, rejected files, quotas and listings.
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/common/status_conversion.h"
#include "tests/gateway/gateway_fixture.h"

namespace reftune::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Regular files under the artifact root's blob folder.
int CountBlobs(const std::string& artifact_root) {
  int count = 0;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(artifact_root + "/blobs", error)) {
    if (entry.is_regular_file()) ++count;
  }
  return count;
}

TEST_F(GatewayTest, UploadAcceptsRecordSpanningChunks) {
  const TestTenant tenant = CreateTenant("acme");
  const std::string content = ValidDataset(20);
  v1::Dataset dataset;
  // 7-byte chunks split every record across several messages.
  const grpc::Status status = Upload(tenant.secret, "stories", content, 7, &dataset);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(dataset.record_count(), 20);
  EXPECT_EQ(dataset.size_bytes(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(dataset.sha256().size(), 64u);
  EXPECT_EQ(dataset.purpose(), v1::DATASET_PURPOSE_FINETUNE);
  EXPECT_EQ(CountBlobs(artifact_root_), 1);

  v1::GetDatasetRequest get;
  get.set_dataset_id(dataset.id());
  v1::Dataset fetched;
  ASSERT_TRUE(customer_->GetDataset(CallWith(tenant.secret).get(), get, &fetched).ok());
  EXPECT_EQ(fetched.sha256(), dataset.sha256());
}

TEST_F(GatewayTest, UploadListsEveryBadLine) {
  const TestTenant tenant = CreateTenant("acme");
  const std::string content =
      "{\"prompt\": \"fine\", \"response\": \"ok\"}\n"
      "{\"prompt\": \"missing answer\"}\n"
      "{\"prompt\": \"fine again\", \"response\": \"ok\"}\n"
      "this is not json\n"
      "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}, "
      "{\"role\": \"assistant\", \"content\": \"hello\"}]}\n";
  v1::Dataset dataset;
  const grpc::Status status = Upload(tenant.secret, "broken", content, 16, &dataset);

  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const std::vector<std::string> fields = ViolationFields(status);
  ASSERT_EQ(fields.size(), 3u) << status.error_message();
  EXPECT_THAT(fields[0], HasSubstr("line 2:"));
  EXPECT_THAT(fields[1], HasSubstr("line 4:"));
  EXPECT_THAT(fields[2], HasSubstr("line 5:"));

  // Nothing stored: no dataset row and no blob.
  v1::ListDatasetsResponse listed;
  ASSERT_TRUE(
      customer_->ListDatasets(CallWith(tenant.secret).get(), v1::ListDatasetsRequest(), &listed)
          .ok());
  EXPECT_EQ(listed.datasets_size(), 0);
  EXPECT_EQ(CountBlobs(artifact_root_), 0);
}

TEST_F(GatewayTest, UploadCapsListedProblems) {
  const TestTenant tenant = CreateTenant("acme");
  std::string content;
  for (int i = 0; i < 130; ++i) content += "not json\n";
  v1::Dataset dataset;
  const grpc::Status status = Upload(tenant.secret, "junk", content, 1024, &dataset);

  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const std::vector<services::FieldViolation> violations =
      services::BadRequestViolations(services::FromGrpcStatus(status));
  ASSERT_GE(violations.size(), 2u);
  EXPECT_EQ(violations.front().field, "line 1: (record)");
  EXPECT_EQ(violations.back().field, "(more)");
  // The listed problems and the count of the rest add up to every bad line.
  const int listed = static_cast<int>(violations.size()) - 1;
  EXPECT_THAT(violations.back().description,
              HasSubstr(absl::StrCat(130 - listed, " more problems not shown")));
  EXPECT_THAT(status.error_message(), HasSubstr("130 problem(s)"));
}

TEST_F(GatewayTest, UploadRejectsWrongHeaderSize) {
  const TestTenant tenant = CreateTenant("acme");
  auto context = CallWith(tenant.secret);
  v1::Dataset dataset;
  auto writer = customer_->UploadDataset(context.get(), &dataset);
  v1::UploadDatasetRequest header;
  header.mutable_header()->set_name("short");
  header.mutable_header()->set_size_bytes(10000);
  writer->Write(header);
  v1::UploadDatasetRequest chunk;
  chunk.set_chunk(ValidDataset(2));
  writer->Write(chunk);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("size_bytes is 10000"));
}

TEST_F(GatewayTest, DatasetQuotaIsResourceExhausted) {
  const TestTenant tenant = CreateTenant("acme");
  const std::string content = ValidDataset(10);
  // Room for either file alone, not for both.
  const int64_t limit = static_cast<int64_t>(content.size() + ValidDataset(11).size()) - 1;
  v1::SetTenantLimitsRequest limits;
  limits.set_tenant_id(tenant.id);
  limits.set_max_dataset_bytes(limit);
  v1::Tenant updated;
  ASSERT_TRUE(operator_->SetTenantLimits(CallWith(operator_secret_).get(), limits, &updated).ok());
  EXPECT_EQ(updated.max_dataset_bytes(), limit);

  v1::Dataset first;
  ASSERT_TRUE(Upload(tenant.secret, "first", content, 1 << 20, &first).ok());
  v1::Dataset second;
  const grpc::Status status = Upload(tenant.secret, "second", ValidDataset(11), 1 << 20, &second);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("max_dataset_bytes"));

  // Deleting the first frees its bytes.
  v1::DeleteDatasetRequest remove;
  remove.set_dataset_id(first.id());
  v1::DeleteDatasetResponse removed;
  ASSERT_TRUE(customer_->DeleteDataset(CallWith(tenant.secret).get(), remove, &removed).ok());
  const grpc::Status retried = Upload(tenant.secret, "second", ValidDataset(11), 1 << 20, &second);
  EXPECT_TRUE(retried.ok()) << retried.error_message();
}

TEST_F(GatewayTest, ListDatasetsPagesThroughAll) {
  const TestTenant tenant = CreateTenant("acme");
  for (int i = 0; i < 5; ++i) {
    v1::Dataset dataset;
    ASSERT_TRUE(Upload(tenant.secret, absl::StrCat("set-", i), ValidDataset(i + 1), 64, &dataset)
                    .ok());
  }

  std::vector<std::string> names;
  v1::ListDatasetsRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    v1::ListDatasetsResponse response;
    ASSERT_TRUE(customer_->ListDatasets(CallWith(tenant.secret).get(), request, &response).ok());
    for (const v1::Dataset& dataset : response.datasets()) names.push_back(dataset.name());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);

  EXPECT_EQ(pages, 3);
  EXPECT_THAT(names, ElementsAre("set-4", "set-3", "set-2", "set-1", "set-0"));
}

}  // namespace
}  // namespace reftune::gateway
