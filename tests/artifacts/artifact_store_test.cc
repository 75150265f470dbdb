#include "core/artifacts/artifact_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace reftune::artifacts {
namespace {

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/reftune-artifacts-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string root_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(Sha256Hex, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ArtifactStoreTest, StoresBlobUnderItsHash) {
  auto store = ArtifactStore::Open(root_);
  ASSERT_TRUE(store.ok()) << store.status();
  auto writer = store->NewBlobWriter();
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append("a").ok());
  ASSERT_TRUE((*writer)->Append("bc").ok());

  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->sha256, Sha256Hex("abc"));
  EXPECT_EQ(info->size_bytes, 3);
  EXPECT_EQ(ReadAll(info->path), "abc");

  auto path = store->BlobPath(info->sha256);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, info->path);
  auto file_hash = Sha256OfFile(*path);
  ASSERT_TRUE(file_hash.ok());
  EXPECT_EQ(*file_hash, info->sha256);
}

TEST_F(ArtifactStoreTest, AbandonedWriterLeavesNoFile) {
  auto store = ArtifactStore::Open(root_);
  ASSERT_TRUE(store.ok()) << store.status();
  {
    auto writer = store->NewBlobWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("partial upload").ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/blobs"));
}

TEST_F(ArtifactStoreTest, BlobPathRejectsBadHashes) {
  auto store = ArtifactStore::Open(root_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->BlobPath("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->BlobPath(std::string(64, 'A')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->BlobPath(std::string(64, 'a')).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ArtifactStoreTest, JobFolderRejectsPathTraversal) {
  auto store = ArtifactStore::Open(root_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->JobFolder("..").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->JobFolder("a/b").status().code(), absl::StatusCode::kInvalidArgument);
  auto folder = store->JobFolder("job-1");
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_TRUE(std::filesystem::is_directory(*folder));
}

TEST(ArtifactStore, EmptyRootIsInvalid) {
  EXPECT_EQ(ArtifactStore::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::artifacts
