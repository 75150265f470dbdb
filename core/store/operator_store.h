// Operator reads and actions that span tenants: tenant and worker listings, API keys by id, and
// requeueing or failing a stuck job.
#ifndef REFTUNE_CORE_STORE_OPERATOR_STORE_H_
#define REFTUNE_CORE_STORE_OPERATOR_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"
#include "core/store/job_record.h"
#include "core/store/tenant_store.h"

namespace reftune::store {

struct WorkerRecord {
  std::string id;
  std::string host;
  absl::Time started_at;
  absl::Time last_heartbeat_at;
  // A job whose lease the worker holds now; empty when idle.
  std::string job_id;
};

// Failure code stored when an operator fails a job.
inline constexpr char kOperatorFailure[] = "OPERATOR";

// Thread-safe; `database` must outlive the store.
class OperatorStore {
 public:
  explicit OperatorStore(Database* database) : database_(database) {}

  // Every tenant with its limits, by name.
  absl::StatusOr<std::vector<Tenant>> ListTenants();

  // Any tenant's API key. NOT_FOUND when the id is unknown.
  absl::StatusOr<ApiKeyRecord> GetApiKey(const std::string& api_key_id);

  // True when `tenant_id` has at least one operator key, revoked or not.
  absl::StatusOr<bool> HasOperatorKey(const std::string& tenant_id);

  // Registered workers, most recent heartbeat first, each with the job it holds a lease on.
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers();

  // Moves a running job back to QUEUED and clears its lease, so the next claim resumes it from its
  // last checkpoint. FAILED_PRECONDITION for a job that is not running.
  absl::StatusOr<JobRecord> RequeueJob(const std::string& job_id, const std::string& reason);

  // Fails a running or CANCELLING job with code OPERATOR and `reason`. FAILED_PRECONDITION for a
  // finished job and for a queued one, which the state machine only lets a customer cancel.
  absl::StatusOr<JobRecord> FailJob(const std::string& job_id, const std::string& reason);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_OPERATOR_STORE_H_
