// Files of datasets, checkpoints and adapters under one root folder: local disk by default, a
// shared volume when workers run on several machines.
#ifndef REFTUNE_CORE_ARTIFACTS_ARTIFACT_STORE_H_
#define REFTUNE_CORE_ARTIFACTS_ARTIFACT_STORE_H_

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "openssl/evp.h"

namespace reftune::artifacts {

// A stored content-addressed blob.
struct BlobInfo {
  // Lowercase hex SHA-256 of the content.
  std::string sha256;
  int64_t size_bytes = 0;
  // Absolute path of the stored file.
  std::string path;
};

// Streams bytes into a temporary file while hashing them; Commit moves the file to its
// content address. Not thread-safe; one writer per upload. Abandoned writers delete their file.
class BlobWriter {
 public:
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  absl::Status Append(absl::string_view bytes);
  int64_t size_bytes() const { return size_bytes_; }

  // Finishes the blob and stores it under blobs/<first two hex digits>/<sha256>. Storing the same
  // content twice keeps one file.
  absl::StatusOr<BlobInfo> Commit();

 private:
  friend class ArtifactStore;
  BlobWriter(std::string root, std::string temp_path);

  std::string root_;
  std::string temp_path_;
  std::ofstream out_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> hash_;
  int64_t size_bytes_ = 0;
  bool committed_ = false;
};

// The artifact root. Thread-safe: every method works on distinct files or uses atomic renames.
class ArtifactStore {
 public:
  // Creates the root and its subfolders if needed. INVALID_ARGUMENT for an empty root,
  // PERMISSION_DENIED or INTERNAL when it cannot be created.
  static absl::StatusOr<ArtifactStore> Open(const std::string& root);

  const std::string& root() const { return root_; }

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewBlobWriter() const;

  // Path of the blob with this hash. NOT_FOUND when it is not stored; INVALID_ARGUMENT when
  // `sha256` is not 64 lowercase hex digits.
  absl::StatusOr<std::string> BlobPath(const std::string& sha256) const;

  // Folder for one job's checkpoints and outputs: <root>/jobs/<job_id>, created on demand.
  absl::StatusOr<std::string> JobFolder(const std::string& job_id) const;

 private:
  explicit ArtifactStore(std::string root) : root_(std::move(root)) {}

  std::string root_;
};

// Returns the lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// Returns the lowercase hex SHA-256 of a file's content. NOT_FOUND when it cannot be read.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace reftune::artifacts

#endif  // REFTUNE_CORE_ARTIFACTS_ARTIFACT_STORE_H_
