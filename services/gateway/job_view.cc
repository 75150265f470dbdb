#include "services/gateway/job_view.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {

absl::StatusOr<std::string> AdapterFolder(GatewayContext& context, const std::string& job_id) {
  REFTUNE_ASSIGN_OR_RETURN(std::string job_folder, context.artifacts.JobFolder(job_id));
  return (std::filesystem::path(job_folder) / kAdapterFolderName).string();
}

absl::StatusOr<std::vector<v1::ArtifactFile>> ListAdapterFiles(const std::string& folder) {
  std::vector<v1::ArtifactFile> files;
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (!entry.is_regular_file()) continue;
    v1::ArtifactFile file;
    file.set_name(entry.path().filename().string());
    file.set_size_bytes(static_cast<int64_t>(entry.file_size()));
    REFTUNE_ASSIGN_OR_RETURN(std::string sha256, artifacts::Sha256OfFile(entry.path().string()));
    file.set_sha256(sha256);
    files.push_back(std::move(file));
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("listing adapter folder ", folder, " failed: ", error.message()));
  }
  std::sort(files.begin(), files.end(),
            [](const v1::ArtifactFile& a, const v1::ArtifactFile& b) { return a.name() < b.name(); });
  return files;
}

absl::StatusOr<v1::Job> BuildJobView(GatewayContext& context, const store::JobRecord& record) {
  REFTUNE_ASSIGN_OR_RETURN(
      auto payloads, context.job_summaries.LatestEventPayloads(
                         record.id, {kProgressEvent, kScreeningSummaryEvent, kEvaluationEvent}));
  std::vector<v1::ArtifactFile> files;
  if (record.state == jobs::JobState::kSucceeded) {
    REFTUNE_ASSIGN_OR_RETURN(std::string folder, AdapterFolder(context, record.id));
    REFTUNE_ASSIGN_OR_RETURN(files, ListAdapterFiles(folder));
  }
  return JobToProto(record, payloads, files);
}

}  // namespace reftune::gateway
