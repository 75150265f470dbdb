#include "core/store/dataset_store.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/store/test_database.h"

namespace reftune::store {
namespace {

using ::testing::HasSubstr;

NewDataset Dataset(const std::string& name, int64_t size_bytes) {
  NewDataset dataset;
  dataset.name = name;
  dataset.sha256 = std::string(64, 'a');
  dataset.size_bytes = size_bytes;
  dataset.record_count = 10;
  dataset.storage_path = "/artifacts/" + name;
  dataset.validation_report_json = R"({"problems": []})";
  return dataset;
}

class DatasetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = OpenTestDatabase();
    ASSERT_NE(database_, nullptr);
    tenant_ = CreateTestTenant(database_.get(), "acme", TenantLimits{4, 1000});
    other_tenant_ = CreateTestTenant(database_.get(), "globex");
    store_ = std::make_unique<DatasetStore>(database_.get());
  }
  std::unique_ptr<Database> database_;
  std::unique_ptr<DatasetStore> store_;
  std::string tenant_;
  std::string other_tenant_;
};

TEST_F(DatasetStoreTest, CreateThenGetAndDelete) {
  absl::StatusOr<DatasetRecord> created = store_->CreateDataset(tenant_, Dataset("train", 100));
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<DatasetRecord> read = store_->GetDataset(tenant_, created->id);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size_bytes, 100);
  EXPECT_EQ(read->validation_report_json, R"({"problems": []})");

  EXPECT_EQ(store_->GetDataset(other_tenant_, created->id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteDataset(other_tenant_, created->id).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteDataset(tenant_, created->id).ok());
  EXPECT_EQ(store_->GetDataset(tenant_, created->id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DatasetStoreTest, ByteLimitCountsLiveDatasets) {
  absl::StatusOr<DatasetRecord> big = store_->CreateDataset(tenant_, Dataset("big", 900));
  ASSERT_TRUE(big.ok());
  absl::StatusOr<DatasetRecord> over = store_->CreateDataset(tenant_, Dataset("more", 200));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over.status().message()), HasSubstr("limit of 1000 bytes"));

  ASSERT_TRUE(store_->DeleteDataset(tenant_, big->id).ok());
  EXPECT_TRUE(store_->CreateDataset(tenant_, Dataset("more", 200)).ok());
}

TEST_F(DatasetStoreTest, CreateRejectsInvalidFields) {
  NewDataset bad_hash = Dataset("a", 1);
  bad_hash.sha256 = "ABC";
  NewDataset negative = Dataset("b", -1);
  NewDataset bad_report = Dataset("c", 1);
  bad_report.validation_report_json = "[]";
  const std::pair<NewDataset, std::string> cases[] = {
      {Dataset("", 1), "name is empty"},
      {bad_hash, "64 lowercase hex digits, got \"ABC\""},
      {negative, "must not be negative"},
      {bad_report, "JSON object"},
  };
  for (const auto& [dataset, message] : cases) {
    SCOPED_TRACE(message);
    absl::StatusOr<DatasetRecord> result = store_->CreateDataset(tenant_, dataset);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(message));
  }
}

TEST_F(DatasetStoreTest, ListingPagesAndFiltersTenant) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<DatasetRecord> dataset =
        store_->CreateDataset(tenant_, Dataset(absl::StrCat("d", i), 1));
    ASSERT_TRUE(dataset.ok());
    created.insert(dataset->id);
    ASSERT_TRUE(store_->CreateDataset(other_tenant_, Dataset(absl::StrCat("o", i), 1)).ok());
  }
  std::set<std::string> listed;
  PageRequest request{2, ""};
  do {
    absl::StatusOr<Page<DatasetRecord>> page = store_->ListDatasets(tenant_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const DatasetRecord& dataset : page->items) listed.insert(dataset.id);
    request.page_token = page->next_page_token;
  } while (!request.page_token.empty());
  EXPECT_EQ(listed, created);

  EXPECT_EQ(store_->ListDatasets(tenant_, PageRequest{2, "bad"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::store
