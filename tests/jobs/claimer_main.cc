// Claims jobs until the queue is empty and prints each claimed job id on its own line.
// Usage: jobs_claimer <connection string> <worker id>
#include <iostream>
#include <optional>

#include "core/jobs/job_queue.h"
#include "core/store/database.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " <connection string> <worker id>\n";
    return 2;
  }
  reftune::store::DatabaseOptions options;
  options.connection_string = argv[1];
  options.pool_size = 1;
  options.apply_migrations = false;
  absl::StatusOr<std::unique_ptr<reftune::store::Database>> database =
      reftune::store::Database::Open(options);
  if (!database.ok()) {
    std::cerr << database.status() << "\n";
    return 1;
  }

  reftune::jobs::JobQueue queue(database->get(), reftune::jobs::JobQueueOptions{});
  while (true) {
    absl::StatusOr<std::optional<reftune::store::JobRecord>> job = queue.Claim(argv[2]);
    if (!job.ok()) {
      std::cerr << job.status() << "\n";
      return 1;
    }
    if (!job->has_value()) return 0;
    std::cout << (*job)->id << "\n";
  }
}
