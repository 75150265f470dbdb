// reftune-filter: the filter service process. It scores prompts against teachers' refusal
// features and generates with finetuned adapters, for the workers and the gateway.
#include <algorithm>
#include <csignal>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "core/metrics/metrics.h"
#include "core/model/torch_threads.h"
#include "core/store/database.h"
#include "glog/logging.h"
#include "services/filter/filter_server.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:50052";
  std::string tls_cert;
  std::string tls_key;
  bool allow_insecure_remote = false;
  std::string metrics_listen;
  std::string database;
  std::string teacher_root;
  std::string base_models;
  int max_teachers = 4;
  int model_threads = 1;
  int intra_op_threads = 0;
  int max_queued_tasks = 256;
};

void AddFlags(CLI::App& app, Flags& flags) {
  app.add_option("--listen", flags.listen, "gRPC address host:port; port 0 picks a free port")
      ->envname("REFTUNE_LISTEN")
      ->capture_default_str();
  app.add_option("--tls-cert", flags.tls_cert,
                 "PEM certificate chain; plaintext when unset, which is allowed only on loopback")
      ->envname("REFTUNE_TLS_CERT");
  app.add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert")
      ->envname("REFTUNE_TLS_KEY");
  app.add_flag("--allow-insecure-remote", flags.allow_insecure_remote,
               "serve plaintext gRPC on a non-loopback address; only inside a private network or "
               "behind a TLS-terminating proxy")
      ->envname("REFTUNE_ALLOW_INSECURE_REMOTE");
  app.add_option("--metrics-listen", flags.metrics_listen,
                 "host:port of the Prometheus /metrics endpoint, e.g. 127.0.0.1:9103; empty "
                 "disables it")
      ->envname("REFTUNE_METRICS_LISTEN")
      ->capture_default_str();
  app.add_option("--database", flags.database,
                 "libpq connection string of the reftune database, for teachers and base models")
      ->envname("REFTUNE_DATABASE_URL");
  app.add_option("--teacher-root", flags.teacher_root,
                 "folder with one subfolder per teacher id (teacher files plus base_model.json)");
  app.add_option("--base-models", flags.base_models,
                 "JSON file of base models for GenerateWithAdapter when there is no database");
  app.add_option("--max-teachers", flags.max_teachers,
                 "teachers kept in memory; the least recently used is evicted beyond it")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--model-threads", flags.model_threads, "threads that run model work")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--intra-op-threads", flags.intra_op_threads,
                 "LibTorch intra-op threads; 0 means CPU cores divided by --model-threads")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--max-queued-tasks", flags.max_queued_tasks,
                 "model tasks waiting at most; calls beyond it fail with UNAVAILABLE")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
}

int IntraOpThreads(const Flags& flags) {
  if (flags.intra_op_threads > 0) return flags.intra_op_threads;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / flags.model_threads);
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  CLI::App app{"reftune-filter: prompt scoring and adapter generation service"};
  Flags flags;
  AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);

  // Blocked here, before any thread starts, so that every thread inherits the mask and only
  // sigwait below receives the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<reftune::store::Database> database;
  if (!flags.database.empty()) {
    reftune::store::DatabaseOptions database_options;
    database_options.connection_string = flags.database;
    auto opened = reftune::store::Database::Open(database_options);
    if (!opened.ok()) {
      LOG(ERROR) << "Opening the database failed: " << opened.status();
      return 1;
    }
    database = std::move(*opened);
  }

  reftune::metrics::Metrics metrics;
  std::unique_ptr<reftune::metrics::MetricsHttpServer> exposer;
  if (!flags.metrics_listen.empty()) {
    auto started = reftune::metrics::StartExposer(flags.metrics_listen, metrics);
    if (!started.ok()) {
      LOG(ERROR) << "Starting the metrics endpoint failed: " << started.status();
      return 1;
    }
    exposer = std::move(*started);
    LOG(INFO) << "Metrics on http://" << flags.metrics_listen << "/metrics";
  }

  reftune::model::ConfigureTorchThreads(IntraOpThreads(flags));

  reftune::filter::FilterServerOptions options;
  options.grpc.listen_address = flags.listen;
  options.grpc.tls_cert_file = flags.tls_cert;
  options.grpc.tls_key_file = flags.tls_key;
  options.grpc.allow_insecure_remote = flags.allow_insecure_remote;
  options.database = database.get();
  options.teacher_root = flags.teacher_root;
  options.base_models_file = flags.base_models;
  options.teachers.max_teachers = flags.max_teachers;
  options.executor.threads = flags.model_threads;
  options.executor.max_queued_tasks = flags.max_queued_tasks;
  auto server = reftune::filter::FilterServer::Start(options, &metrics);
  if (!server.ok()) {
    LOG(ERROR) << "Starting the filter service failed: " << server.status();
    return 1;
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG(INFO) << "Received signal " << signal_number << "; shutting down";
  (*server)->Shutdown();
  LOG(INFO) << "Filter service exited";
  return 0;
}
