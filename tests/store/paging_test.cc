#include "core/store/paging.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/store/job_store.h"
#include "tests/store/test_database.h"

namespace reftune::store {
namespace {

using ::testing::HasSubstr;

TEST(PageSize, DefaultsClampsAndRejects) {
  EXPECT_EQ(*ResolvePageSize(0), kDefaultPageSize);
  EXPECT_EQ(*ResolvePageSize(7), 7);
  EXPECT_EQ(*ResolvePageSize(kMaxPageSize + 1), kMaxPageSize);
  absl::StatusOr<int> negative = ResolvePageSize(-1);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("got -1"));
}

TEST(PageToken, RoundTripsCursors) {
  absl::StatusOr<TimeIdCursor> cursor = DecodeTimeIdCursor(EncodeTimeIdCursor({1234567, "id:x"}));
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->created_at_micros, 1234567);
  EXPECT_EQ(cursor->id, "id:x");
  absl::StatusOr<int64_t> sequence = DecodeSequenceCursor(EncodeSequenceCursor(42));
  ASSERT_TRUE(sequence.ok());
  EXPECT_EQ(*sequence, 42);
}

TEST(PageToken, MalformedTokensAreInvalidArgument) {
  const std::string cases[] = {
      "not base64 !",
      absl::WebSafeBase64Escape("t1:notanumber:id"),
      absl::WebSafeBase64Escape("t1:123:"),
      absl::WebSafeBase64Escape("x9:123:id"),
      EncodeSequenceCursor(5),  // a token of another listing
  };
  for (const std::string& token : cases) {
    SCOPED_TRACE(token);
    absl::StatusOr<TimeIdCursor> cursor = DecodeTimeIdCursor(token);
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cursor.status().message()), HasSubstr("page_token"));
  }
  EXPECT_EQ(DecodeSequenceCursor(EncodeTimeIdCursor({1, "a"})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JobListing, PagesCoverEveryJobOnce) {
  std::unique_ptr<Database> database = OpenTestDatabase();
  ASSERT_NE(database, nullptr);
  TenantLimits roomy{100, 1000};
  const std::string tenant = CreateTestTenant(database.get(), "acme", roomy);
  const std::string other = CreateTestTenant(database.get(), "globex", roomy);
  JobStore store(database.get());

  std::set<std::string> created;
  for (int i = 0; i < 23; ++i) {
    NewJob job;
    job.config_json = "{}";
    job.request_id = absl::StrCat("r", i);
    absl::StatusOr<CreateJobResult> result = store.CreateJob(tenant, job);
    ASSERT_TRUE(result.ok()) << result.status();
    created.insert(result->job.id);
    ASSERT_TRUE(store.CreateJob(other, job).ok());
  }

  std::set<std::string> listed;
  PageRequest request{10, ""};
  int pages = 0;
  absl::Time previous = absl::InfiniteFuture();
  do {
    absl::StatusOr<Page<JobRecord>> page = store.ListJobs(tenant, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const JobRecord& job : page->items) {
      EXPECT_EQ(job.tenant_id, tenant);
      EXPECT_LE(job.created_at, previous);
      previous = job.created_at;
      EXPECT_TRUE(listed.insert(job.id).second) << "listed twice: " << job.id;
    }
    request.page_token = page->next_page_token;
  } while (!request.page_token.empty());

  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, created);

  absl::StatusOr<Page<JobRecord>> bad = store.ListJobs(tenant, PageRequest{10, "garbage"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobListing, EventPagesFollowSequence) {
  std::unique_ptr<Database> database = OpenTestDatabase();
  ASSERT_NE(database, nullptr);
  const std::string tenant = CreateTestTenant(database.get(), "acme");
  JobStore store(database.get());
  NewJob job;
  job.config_json = "{}";
  job.request_id = "r";
  absl::StatusOr<CreateJobResult> created = store.CreateJob(tenant, job);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(store.CancelJob(tenant, created->job.id).ok());

  absl::StatusOr<Page<JobEvent>> first = store.ListJobEvents(tenant, created->job.id, {1, ""});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->items.size(), 1u);
  EXPECT_EQ(first->items[0].sequence, 1);
  ASSERT_FALSE(first->next_page_token.empty());

  absl::StatusOr<Page<JobEvent>> second =
      store.ListJobEvents(tenant, created->job.id, {1, first->next_page_token});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].sequence, 2);
  EXPECT_THAT(second->items[0].payload_json, HasSubstr(R"("to": "CANCELLED")"));
  EXPECT_TRUE(second->next_page_token.empty());

  EXPECT_EQ(store.ListJobEvents(tenant, created->job.id, {1, "%%%"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::store
