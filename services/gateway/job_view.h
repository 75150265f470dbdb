// Builds the Job message a client sees: the stored row and config, the newest progress,
// screening and evaluation events, and the adapter files of a finished job.
#ifndef REFTUNE_SERVICES_GATEWAY_JOB_VIEW_H_
#define REFTUNE_SERVICES_GATEWAY_JOB_VIEW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/store/job_record.h"
#include "reftune/v1/jobs.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

absl::StatusOr<v1::Job> BuildJobView(GatewayContext& context, const store::JobRecord& record);

// Folder of the job's exported adapter: <artifact root>/jobs/<job id>/adapter.
absl::StatusOr<std::string> AdapterFolder(GatewayContext& context, const std::string& job_id);

// Files of the adapter folder with sizes and SHA-256, by name; empty when the folder is missing.
absl::StatusOr<std::vector<v1::ArtifactFile>> ListAdapterFiles(const std::string& folder);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_JOB_VIEW_H_
