#include "core/artifacts/artifact_store.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reftune::artifacts {
namespace {

namespace fs = std::filesystem;

std::string HexDigest(EVP_MD_CTX* context) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest.data(), &length);
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  return hex;
}

std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> NewSha256Context() {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  return context;
}

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::Status CreateFolder(const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("failed to create folder ", folder.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// Distinguishes temporary files of concurrent uploads in one process.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

std::string Sha256Hex(absl::string_view bytes) {
  auto context = NewSha256Context();
  EVP_DigestUpdate(context.get(), bytes.data(), bytes.size());
  return HexDigest(context.get());
}

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read file ", path));
  auto context = NewSha256Context();
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return HexDigest(context.get());
}

BlobWriter::BlobWriter(std::string root, std::string temp_path)
    : root_(std::move(root)),
      temp_path_(std::move(temp_path)),
      out_(temp_path_, std::ios::binary | std::ios::trunc),
      hash_(NewSha256Context()) {}

BlobWriter::~BlobWriter() {
  if (!committed_) {
    out_.close();
    std::remove(temp_path_.c_str());
  }
}

absl::Status BlobWriter::Append(absl::string_view bytes) {
  if (committed_) return absl::FailedPreconditionError("blob already committed");
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out_) {
    return absl::InternalError(absl::StrCat("failed to write ", temp_path_, " after ",
                                            size_bytes_, " bytes; is the disk full?"));
  }
  EVP_DigestUpdate(hash_.get(), bytes.data(), bytes.size());
  size_bytes_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> BlobWriter::Commit() {
  if (committed_) return absl::FailedPreconditionError("blob already committed");
  out_.flush();
  out_.close();
  if (!out_) return absl::InternalError(absl::StrCat("failed to close ", temp_path_));

  BlobInfo info;
  info.sha256 = HexDigest(hash_.get());
  info.size_bytes = size_bytes_;
  const fs::path folder = fs::path(root_) / "blobs" / info.sha256.substr(0, 2);
  if (absl::Status status = CreateFolder(folder); !status.ok()) return status;
  info.path = (folder / info.sha256).string();

  // rename() is atomic, so readers see either no file or the whole content; an existing blob
  // with the same hash has the same bytes.
  std::error_code error;
  fs::rename(temp_path_, info.path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("failed to move ", temp_path_, " to ", info.path,
                                            ": ", error.message()));
  }
  committed_ = true;
  return info;
}

absl::StatusOr<ArtifactStore> ArtifactStore::Open(const std::string& root) {
  if (root.empty()) {
    return absl::InvalidArgumentError("artifact root is empty; pass a writable folder");
  }
  std::error_code error;
  const fs::path absolute = fs::absolute(root, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("invalid artifact root ", root));
  for (const char* folder : {"blobs", "jobs", "tmp"}) {
    if (absl::Status status = CreateFolder(absolute / folder); !status.ok()) return status;
  }
  return ArtifactStore(absolute.string());
}

absl::StatusOr<std::unique_ptr<BlobWriter>> ArtifactStore::NewBlobWriter() const {
  const std::string temp_path = (fs::path(root_) / "tmp" /
                                 absl::StrCat("upload-", getpid(), "-", temp_counter++))
                                    .string();
  std::unique_ptr<BlobWriter> writer(new BlobWriter(root_, temp_path));
  if (!writer->out_) {
    return absl::InternalError(absl::StrCat("failed to create ", temp_path));
  }
  return writer;
}

absl::StatusOr<std::string> ArtifactStore::BlobPath(const std::string& sha256) const {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid sha256 \"", sha256, "\": expected 64 lowercase hex digits"));
  }
  const fs::path path = fs::path(root_) / "blobs" / sha256.substr(0, 2) / sha256;
  if (!fs::exists(path)) {
    return absl::NotFoundError(absl::StrCat("blob ", sha256, " not found under ", root_));
  }
  return path.string();
}

absl::StatusOr<std::string> ArtifactStore::JobFolder(const std::string& job_id) const {
  if (job_id.empty() || job_id.find('/') != std::string::npos || job_id == "." || job_id == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid job id \"", job_id, "\""));
  }
  const fs::path folder = fs::path(root_) / "jobs" / job_id;
  if (absl::Status status = CreateFolder(folder); !status.ok()) return status;
  return folder.string();
}

}  // namespace reftune::artifacts
