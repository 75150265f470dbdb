// reftune-gateway: the gRPC front door for customers and operators.
//   reftune-gateway --database ... --artifact-root ...       serve
//   reftune-gateway bootstrap --database ...                  print the first operator key once
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "services/gateway/bootstrap.h"
#include "services/gateway/gateway_server.h"

namespace {

struct ServeFlags {
  reftune::gateway::GatewayServerOptions options;
  double shutdown_grace_seconds = 10;
  double sample_interval_seconds = 5;
  int max_concurrent_jobs = reftune::store::TenantLimits{}.max_concurrent_jobs;
  int64_t max_dataset_bytes = reftune::store::TenantLimits{}.max_dataset_bytes;
};

void AddDatabaseFlag(CLI::App& app, std::string* connection_string) {
  app.add_option("--database", *connection_string,
                 "libpq connection string of the reftune database, e.g. \"host=127.0.0.1 "
                 "dbname=reftune user=reftune\"")
      ->envname("REFTUNE_DATABASE_URL")
      ->required();
}

void AddServeFlags(CLI::App& app, ServeFlags* flags) {
  auto& options = flags->options;
  options.grpc.listen_address = "127.0.0.1:50051";
  AddDatabaseFlag(app, &options.database.connection_string);
  app.add_option("--listen", options.grpc.listen_address,
                 "host:port to serve gRPC on; port 0 picks a free one (default 127.0.0.1:50051)")
      ->envname("REFTUNE_LISTEN");
  app.add_option("--tls-cert", options.grpc.tls_cert_file,
                 "PEM certificate chain; with --tls-key enables TLS (default: plaintext, which is "
                 "allowed only on loopback)")
      ->envname("REFTUNE_TLS_CERT");
  app.add_option("--tls-key", options.grpc.tls_key_file, "PEM private key of --tls-cert")
      ->envname("REFTUNE_TLS_KEY");
  app.add_flag("--allow-insecure-remote", options.grpc.allow_insecure_remote,
               "serve plaintext gRPC on a non-loopback address; only inside a private network or "
               "behind a TLS-terminating proxy")
      ->envname("REFTUNE_ALLOW_INSECURE_REMOTE");
  app.add_option("--artifact-root", options.gateway.artifact_root,
                 "folder of datasets and job outputs, shared with the workers")
      ->envname("REFTUNE_ARTIFACT_ROOT")
      ->required();
  app.add_option("--metrics-listen", options.metrics_listen,
                 "host:port of the Prometheus /metrics endpoint (default: none)")
      ->envname("REFTUNE_METRICS_LISTEN");
  app.add_option("--filter-address", options.gateway.filter_address,
                 "host:port of the filter service for ScreenDataset and Generate (default: none, "
                 "those calls return UNAVAILABLE)")
      ->envname("REFTUNE_FILTER_ADDRESS");
  app.add_option("--filter-tls-ca", options.gateway.filter_tls_ca,
                 "PEM CA certificates for a TLS filter service (default: plaintext)")
      ->envname("REFTUNE_FILTER_TLS_CA");
  app.add_option("--max-message-bytes", options.grpc.max_message_bytes,
                 "largest gRPC message in bytes, both directions (default 16 MiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--db-pool-size", options.database.pool_size,
                 "PostgreSQL connections in the pool (default 8)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-upload-bytes", options.gateway.validation.max_total_bytes,
                 "largest dataset file in bytes (default 256 MiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-upload-records", options.gateway.validation.max_records,
                 "most records per dataset (default 1,000,000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--default-max-concurrent-jobs", flags->max_concurrent_jobs,
                 "unfinished jobs per new tenant (default 4)")
      ->check(CLI::PositiveNumber);
  app.add_option("--default-max-dataset-bytes", flags->max_dataset_bytes,
                 "bytes of stored datasets per new tenant (default 1 GiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-job-attempts", options.gateway.max_job_attempts,
                 "worker claims per job before lease losses fail it (default 3)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sample-interval", flags->sample_interval_seconds,
                 "seconds between refreshes of the jobs and queue-depth gauges (default 5)")
      ->check(CLI::PositiveNumber);
  app.add_option("--shutdown-grace", flags->shutdown_grace_seconds,
                 "seconds running calls get to finish after SIGTERM or SIGINT (default 10)")
      ->check(CLI::NonNegativeNumber);
}

int Serve(ServeFlags& flags) {
  flags.options.gateway.default_tenant_limits.max_concurrent_jobs = flags.max_concurrent_jobs;
  flags.options.gateway.default_tenant_limits.max_dataset_bytes = flags.max_dataset_bytes;
  flags.options.sample_interval = absl::Seconds(flags.sample_interval_seconds);

  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // the sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<reftune::gateway::GatewayServer>> gateway =
      reftune::gateway::GatewayServer::Start(flags.options);
  if (!gateway.ok()) {
    LOG(ERROR) << "Gateway failed to start: " << gateway.status();
    return EXIT_FAILURE;
  }

  int received = 0;
  sigwait(&stop_signals, &received);
  LOG(INFO) << "Received " << (received == SIGTERM ? "SIGTERM" : "SIGINT");
  (*gateway)->Shutdown(absl::Seconds(flags.shutdown_grace_seconds));
  return EXIT_SUCCESS;
}

int RunBootstrap(const std::string& connection_string, bool force_new_key) {
  reftune::store::DatabaseOptions options;
  options.connection_string = connection_string;
  absl::StatusOr<std::unique_ptr<reftune::store::Database>> database =
      reftune::store::Database::Open(options);
  if (!database.ok()) {
    std::cerr << "reftune-gateway bootstrap: " << database.status().message() << "\n";
    return EXIT_FAILURE;
  }
  absl::StatusOr<reftune::gateway::BootstrapResult> result =
      reftune::gateway::Bootstrap(database->get(), force_new_key);
  if (!result.ok()) {
    std::cerr << "reftune-gateway bootstrap: " << result.status().message() << "\n";
    return EXIT_FAILURE;
  }
  if (!result->key.has_value()) {
    std::cerr << "The operator tenant " << result->tenant_id
              << " already has an operator key; no new key was created. Pass --force-new-key "
                 "to create another.\n";
    return EXIT_SUCCESS;
  }
  std::cerr << "Created operator key " << result->key->record.id << " for tenant "
            << result->tenant_id << ". Store the secret now; it is not shown again.\n";
  std::cout << result->key->secret << "\n";
  return EXIT_SUCCESS;
}

// Applies the pending schema migrations and exits, for a migration step that runs before the
// new binaries roll out.
int RunMigrate(const std::string& connection_string) {
  reftune::store::DatabaseOptions options;
  options.connection_string = connection_string;
  options.apply_migrations = false;
  absl::StatusOr<std::unique_ptr<reftune::store::Database>> database =
      reftune::store::Database::Open(options);
  absl::StatusOr<int> applied =
      database.ok() ? (*database)->Migrate() : absl::StatusOr<int>(database.status());
  if (!applied.ok()) {
    std::cerr << "reftune-gateway migrate: " << applied.status().message() << "\n";
    return EXIT_FAILURE;
  }
  std::cout << "schema is current; " << *applied << " migration(s) applied\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  CLI::App app{"reftune-gateway: the customer and operator gRPC API of reftune"};
  ServeFlags serve_flags;
  AddServeFlags(app, &serve_flags);

  app.footer(
      "Bootstrap: reftune-gateway bootstrap --database ... [--force-new-key] creates the "
      "operator tenant and prints its first operator key once.\n"
      "Migrate: reftune-gateway migrate --database ... applies pending schema migrations and "
      "exits.");

  try {
    // "bootstrap" has its own flags, none of the serving ones, so it gets its own parser.
    if (argc > 1 && std::string(argv[1]) == "bootstrap") {
      std::string bootstrap_database;
      bool force_new_key = false;
      CLI::App bootstrap_app{"reftune-gateway bootstrap: create the operator tenant and print "
                             "its first operator key once"};
      AddDatabaseFlag(bootstrap_app, &bootstrap_database);
      bootstrap_app.add_flag("--force-new-key", force_new_key,
                             "create another operator key even when one exists");
      try {
        bootstrap_app.parse(argc - 1, argv + 1);
      } catch (const CLI::ParseError& error) {
        return bootstrap_app.exit(error);
      }
      return RunBootstrap(bootstrap_database, force_new_key);
    }
    if (argc > 1 && std::string(argv[1]) == "migrate") {
      std::string migrate_database;
      CLI::App migrate_app{"reftune-gateway migrate: apply pending schema migrations and exit"};
      AddDatabaseFlag(migrate_app, &migrate_database);
      try {
        migrate_app.parse(argc - 1, argv + 1);
      } catch (const CLI::ParseError& error) {
        return migrate_app.exit(error);
      }
      return RunMigrate(migrate_database);
    }
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return Serve(serve_flags);
}
