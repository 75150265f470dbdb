#include "services/gateway/dataset_ingest.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/store/dataset_catalog.h"
#include "glog/logging.h"
#include "services/common/status_conversion.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

constexpr size_t kMaxNameLength = 200;

absl::Status CheckExpectations(const IngestExpectations& expectations) {
  if (expectations.name.empty() || expectations.name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset name must be 1 to ", kMaxNameLength, " characters, got ",
        expectations.name.size()));
  }
  if (expectations.size_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("size_bytes must not be negative, got ", expectations.size_bytes));
  }
  if (!expectations.sha256.empty()) {
    const bool hex = expectations.sha256.size() == 64 &&
                     std::all_of(expectations.sha256.begin(), expectations.sha256.end(),
                                 [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
    if (!hex) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sha256 must be 64 lowercase hex digits, got \"", expectations.sha256, "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReportToStatus(const data::ValidationReport& report) {
  std::vector<services::FieldViolation> violations;
  for (const data::ValidationIssue& issue : report.errors) {
    violations.push_back({absl::StrCat("line ", issue.line, ": ", issue.field), issue.message});
  }
  return services::InvalidArgumentWithViolations(
      absl::StrCat("dataset rejected with ", report.error_count, " problem(s) in ", report.records,
                   " record(s), and nothing was stored. The google.rpc.BadRequest detail lists "
                   "them by line; the first:"),
      violations, report.error_count);
}

absl::StatusOr<std::unique_ptr<DatasetIngest>> DatasetIngest::Begin(
    GatewayContext* context, const std::string& tenant_id, IngestExpectations expectations) {
  if (expectations.purpose == v1::DATASET_PURPOSE_UNSPECIFIED) {
    expectations.purpose = v1::DATASET_PURPOSE_FINETUNE;
  }
  if (absl::Status status = CheckExpectations(expectations); !status.ok()) return status;

  absl::StatusOr<std::unique_ptr<artifacts::BlobWriter>> writer =
      context->artifacts.NewBlobWriter();
  if (!writer.ok()) return writer.status();

  // Harmful-evaluation sets hold prompts only; every other purpose trains on the answers.
  data::ValidationOptions options = context->options.validation;
  options.require_response = expectations.purpose != v1::DATASET_PURPOSE_HARMFUL_EVAL;
  return std::unique_ptr<DatasetIngest>(new DatasetIngest(
      context, tenant_id, std::move(expectations), std::move(*writer), options));
}

DatasetIngest::DatasetIngest(GatewayContext* context, std::string tenant_id,
                             IngestExpectations expectations,
                             std::unique_ptr<artifacts::BlobWriter> writer,
                             data::ValidationOptions options)
    : context_(context),
      tenant_id_(std::move(tenant_id)),
      expectations_(std::move(expectations)),
      writer_(std::move(writer)),
      validator_(options),
      max_total_bytes_(options.max_total_bytes),
      hash_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  EVP_DigestInit_ex(hash_.get(), EVP_sha256(), nullptr);
}

DatasetIngest::~DatasetIngest() = default;

absl::Status DatasetIngest::Reject(absl::string_view reason, absl::Status status) {
  if (context_->metrics != nullptr) {
    context_->metrics->dataset_rejections.Add({{"reason", std::string(reason)}}).Increment();
  }
  VLOG(1) << "Dataset \"" << expectations_.name << "\" of tenant " << tenant_id_
          << " rejected (" << reason << "): " << status.message();
  return status;
}

absl::Status DatasetIngest::Append(absl::string_view bytes) {
  size_bytes_ += static_cast<int64_t>(bytes.size());
  if (size_bytes_ > max_total_bytes_) {
    return Reject("size_limit", absl::InvalidArgumentError(absl::StrCat(
                                    "dataset is larger than the limit of ", max_total_bytes_,
                                    " bytes; split it into smaller datasets")));
  }
  if (expectations_.size_bytes > 0 && size_bytes_ > expectations_.size_bytes) {
    return Reject("checksum", absl::InvalidArgumentError(absl::StrCat(
                                  "upload is longer than the header's size_bytes ",
                                  expectations_.size_bytes)));
  }
  EVP_DigestUpdate(hash_.get(), bytes.data(), bytes.size());
  if (absl::Status status = validator_.Feed(std::string_view(bytes.data(), bytes.size()));
      !status.ok()) {
    return status;
  }
  return writer_->Append(bytes);
}

absl::StatusOr<v1::Dataset> DatasetIngest::Finish() {
  const data::ValidationReport& report = validator_.Finish();
  if (!report.ok()) return Reject("validation", ReportToStatus(report));
  if (report.valid_records == 0) {
    return Reject("validation", absl::InvalidArgumentError(
                                    "dataset has no records; upload at least one JSONL line"));
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(hash_.get(), digest, &digest_size);
  const std::string sha256 = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), digest_size));
  if (expectations_.size_bytes > 0 && size_bytes_ != expectations_.size_bytes) {
    return Reject("checksum", absl::InvalidArgumentError(absl::StrCat(
                                  "upload has ", size_bytes_, " bytes but the header's size_bytes is ",
                                  expectations_.size_bytes)));
  }
  if (!expectations_.sha256.empty() && sha256 != expectations_.sha256) {
    return Reject("checksum", absl::InvalidArgumentError(absl::StrCat(
                                  "upload has SHA-256 ", sha256, " but the header's sha256 is ",
                                  expectations_.sha256, "; the file changed or was cut")));
  }

  absl::StatusOr<store::Tenant> tenant = context_->tenants.GetTenant(tenant_id_);
  if (!tenant.ok()) return tenant.status();
  absl::StatusOr<int64_t> in_use = context_->dataset_catalog.BytesInUse(tenant_id_);
  if (!in_use.ok()) return in_use.status();
  if (*in_use + size_bytes_ > tenant->limits.max_dataset_bytes) {
    return Reject("quota", absl::ResourceExhaustedError(absl::StrCat(
                               "dataset of ", size_bytes_, " bytes would bring the tenant's datasets to ",
                               *in_use + size_bytes_, " bytes, over the limit of ",
                               tenant->limits.max_dataset_bytes, "; delete datasets or ask an operator to raise max_dataset_bytes")));
  }

  absl::StatusOr<artifacts::BlobInfo> blob = writer_->Commit();
  if (!blob.ok()) return blob.status();

  store::NewDataset row;
  row.name = expectations_.name;
  row.sha256 = blob->sha256;
  row.size_bytes = blob->size_bytes;
  row.record_count = report.valid_records;
  row.storage_path = blob->path;
  row.validation_report_json = report.ToJson().dump();
  const std::string purpose = DatasetPurposeName(expectations_.purpose);
  row.purpose = purpose;
  // NOTE: when CreateDataset fails (a concurrent upload used the quota first), the committed blob
  // stays behind. It is content-addressed and may be shared with other datasets, so it is kept.
  absl::StatusOr<store::DatasetRecord> created = context_->datasets.CreateDataset(tenant_id_, row);
  if (absl::IsResourceExhausted(created.status())) return Reject("quota", created.status());
  if (!created.ok()) return created.status();

  LOG(INFO) << "Stored dataset " << created->id << " (\"" << created->name << "\", " << purpose
            << ", " << created->record_count << " records, " << created->size_bytes
            << " bytes) for tenant " << tenant_id_;
  return DatasetToProto(*created, purpose);
}

}  // namespace reftune::gateway
