// Measures claims per second and claim latency of the job queue with 1, 2 and 8 concurrent
// claimers against a throwaway PostgreSQL cluster with durable commits (fsync on).
// Usage: claim_benchmark [--jobs N] [--claimers 1,2,8]
#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/jobs/job_queue.h"
#include "core/store/job_store.h"
#include "core/store/tenant_store.h"
#include "glog/logging.h"
#include "tests/support/postgres_cluster.h"

namespace {

using reftune::store::Database;

struct RoundResult {
  int claimers = 0;
  int claims = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  return values[index];
}

absl::Status FillQueue(Database* database, const std::string& tenant_id, int jobs, int round) {
  reftune::store::JobStore store(database);
  for (int i = 0; i < jobs; ++i) {
    reftune::store::NewJob job;
    job.config_json = "{}";
    job.request_id = absl::StrCat("round-", round, "-", i);
    absl::StatusOr<reftune::store::CreateJobResult> created = store.CreateJob(tenant_id, job);
    if (!created.ok()) return created.status();
  }
  return absl::OkStatus();
}

// Drains the queue with `claimers` threads, each on its own pooled connection.
absl::StatusOr<RoundResult> DrainQueue(Database* database, int claimers) {
  reftune::jobs::JobQueue queue(database, reftune::jobs::JobQueueOptions{});
  std::vector<std::vector<double>> latencies(claimers);
  std::vector<absl::Status> errors(claimers);
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < claimers; ++c) {
    threads.emplace_back([&, c] {
      const std::string worker = absl::StrCat("bench-", c);
      while (true) {
        const absl::Time before = absl::Now();
        absl::StatusOr<std::optional<reftune::store::JobRecord>> job = queue.Claim(worker);
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - before);
        if (!job.ok()) {
          errors[c] = job.status();
          return;
        }
        if (!job->has_value()) return;
        latencies[c].push_back(ms);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const absl::Status& error : errors) {
    if (!error.ok()) return error;
  }

  std::vector<double> all;
  for (const std::vector<double>& part : latencies) all.insert(all.end(), part.begin(), part.end());
  RoundResult result;
  result.claimers = claimers;
  result.claims = static_cast<int>(all.size());
  result.seconds = seconds;
  result.p50_ms = Percentile(all, 0.50);
  result.p99_ms = Percentile(all, 0.99);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Job queue claim benchmark");
  int jobs = 2000;
  std::vector<int> claimer_counts = {1, 2, 8};
  app.add_option("--jobs", jobs, "Jobs queued before each round (all are claimed)")
      ->check(CLI::PositiveNumber);
  app.add_option("--claimers", claimer_counts, "Concurrent claimer threads per round")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  google::InitGoogleLogging(argv[0]);

  reftune::test_support::PostgresClusterOptions cluster_options;
  cluster_options.durable = true;
  absl::StatusOr<std::unique_ptr<reftune::test_support::PostgresCluster>> cluster =
      reftune::test_support::PostgresCluster::Start(cluster_options);
  if (!cluster.ok()) {
    std::fprintf(stderr, "starting PostgreSQL failed: %s\n", cluster.status().ToString().c_str());
    return 1;
  }

  reftune::store::DatabaseOptions options;
  options.connection_string = (*cluster)->ConnectionString();
  options.pool_size = *std::max_element(claimer_counts.begin(), claimer_counts.end());
  absl::StatusOr<std::unique_ptr<Database>> database = Database::Open(options);
  if (!database.ok()) {
    std::fprintf(stderr, "opening the database failed: %s\n", database.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<reftune::store::Tenant> tenant =
      reftune::store::TenantStore(database->get())
          .CreateTenant("bench", reftune::store::TenantLimits{1 << 30, 1});
  if (!tenant.ok()) {
    std::fprintf(stderr, "creating the tenant failed: %s\n", tenant.status().ToString().c_str());
    return 1;
  }

  std::printf("%-9s %8s %10s %12s %9s %9s\n", "claimers", "claims", "seconds", "claims/s",
              "p50 ms", "p99 ms");
  for (size_t round = 0; round < claimer_counts.size(); ++round) {
    absl::Status filled = FillQueue(database->get(), tenant->id, jobs, static_cast<int>(round));
    if (!filled.ok()) {
      std::fprintf(stderr, "queueing jobs failed: %s\n", filled.ToString().c_str());
      return 1;
    }
    absl::StatusOr<RoundResult> result = DrainQueue(database->get(), claimer_counts[round]);
    if (!result.ok()) {
      std::fprintf(stderr, "claiming failed: %s\n", result.status().ToString().c_str());
      return 1;
    }
    std::printf("%-9d %8d %10.2f %12.0f %9.2f %9.2f\n", result->claimers, result->claims,
                result->seconds, result->claims / result->seconds, result->p50_ms, result->p99_ms);
  }
  return 0;
}
