// The versioned schema of the reftune database, embedded in the binary.
#ifndef REFTUNE_CORE_STORE_MIGRATIONS_H_
#define REFTUNE_CORE_STORE_MIGRATIONS_H_

#include <vector>

namespace reftune::store {

// One schema change. Versions start at 1 and increase by 1; a released migration never changes,
// a new change gets a new version.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All migrations in version order.
const std::vector<Migration>& EmbeddedMigrations();

// Key of the transaction-scoped advisory lock that serializes migrations across processes.
inline constexpr long long kMigrationLockKey = 0x72656674756e65;  // "reftune" in ASCII

// NOTIFY channels. Payload: the job id.
inline constexpr const char kJobQueuedChannel[] = "reftune_job_queued";
inline constexpr const char kJobEventsChannel[] = "reftune_job_events";

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_MIGRATIONS_H_
