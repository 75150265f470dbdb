// Takes in one dataset file, from an upload stream or a registered path: validates every record
// while the bytes stream into a temporary blob, and stores the blob and the dataset row only when
// the whole file is valid.
#ifndef REFTUNE_SERVICES_GATEWAY_DATASET_INGEST_H_
#define REFTUNE_SERVICES_GATEWAY_DATASET_INGEST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/artifacts/artifact_store.h"
#include "core/data/streaming_validator.h"
#include "openssl/evp.h"
#include "reftune/v1/datasets.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

// Expected properties of an ingested file; unset fields are not checked.
struct IngestExpectations {
  std::string name;
  v1::DatasetPurpose purpose = v1::DATASET_PURPOSE_FINETUNE;
  // Expected size in bytes; 0 means unchecked.
  int64_t size_bytes = 0;
  // Expected lowercase hex SHA-256; empty means unchecked.
  std::string sha256;
};

// Not thread-safe; one per upload. Destroying it before Finish stores nothing.
class DatasetIngest {
 public:
  // INVALID_ARGUMENT for a bad name or purpose; errors of the artifact store otherwise.
  static absl::StatusOr<std::unique_ptr<DatasetIngest>> Begin(GatewayContext* context,
                                                              const std::string& tenant_id,
                                                              IngestExpectations expectations);
  ~DatasetIngest();

  // Validates and buffers the next bytes. INVALID_ARGUMENT once the file passes the size limit.
  absl::Status Append(absl::string_view bytes);

  // Checks the whole file, its size and hash, and the tenant's dataset-bytes quota, then stores
  // the blob and the dataset row. INVALID_ARGUMENT with a google.rpc.BadRequest listing every
  // problem by line (capped, with the count not shown) when any record is invalid;
  // RESOURCE_EXHAUSTED past the quota. Nothing is stored unless it returns OK.
  absl::StatusOr<v1::Dataset> Finish();

 private:
  DatasetIngest(GatewayContext* context, std::string tenant_id, IngestExpectations expectations,
                std::unique_ptr<artifacts::BlobWriter> writer, data::ValidationOptions options);
  absl::Status Reject(absl::string_view reason, absl::Status status);

  GatewayContext* context_;
  const std::string tenant_id_;
  const IngestExpectations expectations_;
  std::unique_ptr<artifacts::BlobWriter> writer_;
  data::StreamingValidator validator_;
  const int64_t max_total_bytes_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> hash_;
  int64_t size_bytes_ = 0;
};

// Converts the errors of an invalid report to INVALID_ARGUMENT with one BadRequest violation per
// listed problem (field "line N: <field>") and a last one, field "(more)", counting the problems
// not listed. The listing stops at about 3 KiB (see InvalidArgumentWithViolations).
absl::Status ReportToStatus(const data::ValidationReport& report);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_DATASET_INGEST_H_
