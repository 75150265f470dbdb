// reftune-worker: claims jobs from PostgreSQL and runs them (screening, training, evaluation,
// export) until SIGTERM or SIGINT, which checkpoint the running job and give its lease back.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/artifacts/artifact_store.h"
#include "core/jobs/job_queue.h"
#include "core/metrics/metrics.h"
#include "core/model/torch_threads.h"
#include "core/store/database.h"
#include "glog/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/grpc_server.h"
#include "services/worker/worker.h"

namespace {

std::atomic<bool> g_shutdown{false};

void RequestShutdown(int) { g_shutdown.store(true); }

std::string DefaultWorkerId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  CLI::App app{"reftune-worker: runs reftune finetuning and teacher jobs from the shared queue"};
  std::string database;
  std::string artifact_root;
  std::string filter_address;
  std::string filter_tls_ca;
  std::string worker_id = DefaultWorkerId();
  double lease_seconds = 30;
  double heartbeat_seconds = 5;
  double poll_seconds = 10;
  int64_t checkpoint_interval = 0;
  int intra_op_threads = 0;
  std::string metrics_listen;
  std::string health_listen;
  std::string device = "cpu";
  int64_t max_jobs = 0;
  std::string kinds = "finetune,teacher";
  int64_t max_harmful_eval_prompts = 0;
  app.add_option("--database", database, "libpq connection string of the reftune database")
      ->envname("REFTUNE_DATABASE_URL")
      ->required();
  app.add_option("--artifact-root", artifact_root,
                 "folder of datasets, checkpoints and adapters, shared with the gateway")
      ->envname("REFTUNE_ARTIFACT_ROOT")
      ->required();
  app.add_option("--filter-address", filter_address,
                 "host:port of the filter service for SCREENING; empty scores prompts in this "
                 "process with the teacher loaded here")
      ->envname("REFTUNE_FILTER_ADDRESS");
  app.add_option("--filter-tls-ca", filter_tls_ca,
                 "PEM CA certificates for a TLS filter service (default: plaintext)")
      ->envname("REFTUNE_FILTER_TLS_CA");
  app.add_option("--worker-id", worker_id, "lease owner name, unique per worker (default host-pid)")
      ->envname("REFTUNE_WORKER_ID");
  app.add_option("--lease-seconds", lease_seconds, "seconds a claim or heartbeat keeps a job leased")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--heartbeat-seconds", heartbeat_seconds, "seconds between lease renewals")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--poll-seconds", poll_seconds,
                 "longest idle wait for a new-job notification before polling the queue")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--checkpoint-interval", checkpoint_interval,
                 "training steps between checkpoints for every job; 0 keeps each job's setting")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--intra-op-threads", intra_op_threads,
                 "LibTorch intra-op threads, set once at start-up; 0 means one per core")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen,
                 "address of the Prometheus /metrics endpoint, e.g. 127.0.0.1:9102; empty "
                 "serves none")
      ->envname("REFTUNE_METRICS_LISTEN");
  app.add_option("--health-listen", health_listen,
                 "host:port of a plaintext grpc.health.v1 server for liveness probes, e.g. "
                 "0.0.0.0:50053; empty serves none")
      ->envname("REFTUNE_HEALTH_LISTEN");
  app.add_option("--device", device,
                 "torch device of the models: cpu, or cuda / cuda:N with a CUDA build of LibTorch")
      ->envname("REFTUNE_DEVICE")
      ->capture_default_str();
  app.add_option("--max-jobs", max_jobs, "exit after this many jobs; 0 runs until SIGTERM")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--kinds", kinds, "comma-separated job kinds to claim: finetune, teacher")
      ->capture_default_str();
  app.add_option("--max-harmful-eval-prompts", max_harmful_eval_prompts,
                 "harmful-evaluation prompts answered per job at most; 0 answers all")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // NOTE: only the CPU path runs in this project's tests; Debian's LibTorch has no CUDA.
  std::optional<torch::Device> model_device;
  try {
    model_device.emplace(device);
  } catch (const std::exception& error) {
    // c10 appends a stack trace after the first line of its message.
    const std::string message = error.what();
    LOG(ERROR) << "--device \"" << device << "\" is invalid (expected cpu, cuda or cuda:N): "
               << message.substr(0, message.find('\n'));
    return 2;
  }
  if (model_device->is_cuda() && !torch::cuda::is_available()) {
    LOG(ERROR) << "--device " << device << " needs CUDA, but this LibTorch build sees no CUDA "
               << "device; use --device cpu or a CUDA image";
    return 2;
  }

  reftune::worker::WorkerOptions options;
  options.worker_id = worker_id;
  options.heartbeat_interval = absl::Seconds(heartbeat_seconds);
  options.poll_interval = absl::Seconds(poll_seconds);
  options.max_jobs = max_jobs;
  options.stages.checkpoint_interval_override_steps = checkpoint_interval;
  options.stages.max_harmful_eval_prompts = max_harmful_eval_prompts;
  for (absl::string_view kind : absl::StrSplit(kinds, ',', absl::SkipWhitespace())) {
    if (kind == "finetune") {
      options.kinds.push_back(reftune::jobs::JobKind::kCustomer);
    } else if (kind == "teacher") {
      options.kinds.push_back(reftune::jobs::JobKind::kTeacher);
    } else {
      LOG(ERROR) << "--kinds has \"" << kind << "\"; expected finetune or teacher";
      return 2;
    }
  }

  std::signal(SIGTERM, RequestShutdown);
  std::signal(SIGINT, RequestShutdown);

  const int threads = reftune::model::ConfigureTorchThreads(intra_op_threads);
  LOG(INFO) << "reftune-worker " << worker_id << " starting: lease " << lease_seconds
            << " s, heartbeat " << heartbeat_seconds << " s, poll " << poll_seconds << " s, "
            << threads << " intra-op threads, kinds " << kinds << ", filter "
            << (filter_address.empty() ? "in process" : filter_address);

  reftune::store::DatabaseOptions database_options;
  database_options.connection_string = database;
  database_options.pool_size = 4;
  absl::StatusOr<std::unique_ptr<reftune::store::Database>> db =
      reftune::store::Database::Open(database_options);
  if (!db.ok()) {
    LOG(ERROR) << "cannot open the database: " << db.status();
    return 1;
  }
  absl::StatusOr<reftune::artifacts::ArtifactStore> artifacts =
      reftune::artifacts::ArtifactStore::Open(artifact_root);
  if (!artifacts.ok()) {
    LOG(ERROR) << "cannot open the artifact root " << artifact_root << ": " << artifacts.status();
    return 1;
  }

  reftune::metrics::Metrics metrics;
  std::unique_ptr<reftune::metrics::MetricsHttpServer> exposer;
  if (!metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<reftune::metrics::MetricsHttpServer>> started =
        reftune::metrics::StartExposer(metrics_listen, metrics);
    if (!started.ok()) {
      LOG(ERROR) << "cannot serve metrics on " << metrics_listen << ": " << started.status();
      return 1;
    }
    exposer = *std::move(started);
    LOG(INFO) << "metrics on http://" << metrics_listen << "/metrics";
  }

  // The health server carries no other service, so plaintext is allowed on any address.
  reftune::services::StartedServer health;
  if (!health_listen.empty()) {
    reftune::services::GrpcServerOptions health_options;
    health_options.listen_address = health_listen;
    health_options.allow_insecure_remote = true;
    absl::StatusOr<reftune::services::StartedServer> started =
        reftune::services::StartGrpcServer(health_options, {}, &metrics);
    if (!started.ok()) {
      LOG(ERROR) << "cannot serve health checks on " << health_listen << ": " << started.status();
      return 1;
    }
    health = *std::move(started);
    LOG(INFO) << "grpc.health.v1 on " << health_listen;
  }

  reftune::store::JobStore job_store(db->get());
  reftune::jobs::JobQueueOptions queue_options;
  queue_options.lease_duration = absl::Seconds(lease_seconds);
  reftune::jobs::JobQueue queue(db->get(), queue_options);
  reftune::store::WorkerJobStore worker_jobs(db->get());
  reftune::store::CheckpointStore checkpoints(db->get());
  reftune::store::ScreeningStore screening(db->get());
  reftune::store::BaseModelStore base_models(db->get());
  reftune::store::TeacherStore teachers(db->get());
  reftune::worker::BaseModelCache models(*model_device);

  std::unique_ptr<reftune::worker::PromptScorer> scorer;
  if (filter_address.empty()) {
    scorer = reftune::worker::NewLocalPromptScorer(&models, &base_models);
  } else {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        reftune::services::ClientCredentials(filter_tls_ca);
    if (!credentials.ok()) {
      LOG(ERROR) << "cannot set up the filter connection: " << credentials.status();
      return 1;
    }
    scorer = reftune::worker::NewFilterServiceScorer(
        grpc::CreateChannel(filter_address, *credentials), options.stages.screening_batch_size);
  }

  reftune::worker::WorkerServices services;
  services.jobs = &job_store;
  services.queue = &queue;
  services.worker_jobs = &worker_jobs;
  services.checkpoints = &checkpoints;
  services.screening = &screening;
  services.base_models = &base_models;
  services.teachers = &teachers;
  services.artifacts = &*artifacts;
  services.models = &models;
  services.scorer = scorer.get();
  services.metrics = &metrics;

  reftune::worker::Worker worker(services, options, database, &g_shutdown);
  if (absl::Status status = worker.Run(); !status.ok()) {
    LOG(ERROR) << "worker " << worker_id << " stopped: " << status;
    return 1;
  }
  if (health.server != nullptr) health.server->Shutdown();
  LOG(INFO) << "reftune-worker " << worker_id << " exiting";
  return 0;
}
