#include "services/filter/filter_server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "services/filter/database_resolver.h"
#include "services/filter/folder_teacher_resolver.h"

namespace reftune::filter {
namespace {

// Asks each resolver in turn; the first answer other than NOT_FOUND wins.
class ChainedTeacherResolver : public TeacherResolver {
 public:
  explicit ChainedTeacherResolver(std::vector<const TeacherResolver*> resolvers)
      : resolvers_(std::move(resolvers)) {}

  absl::StatusOr<TeacherLocation> Resolve(const std::string& teacher_id) const override {
    absl::StatusOr<TeacherLocation> result =
        absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
    for (const TeacherResolver* resolver : resolvers_) {
      result = resolver->Resolve(teacher_id);
      if (result.status().code() != absl::StatusCode::kNotFound) return result;
    }
    return result;
  }

 private:
  std::vector<const TeacherResolver*> resolvers_;
};

// A BaseModelResolver that forwards to a DatabaseResolver owned elsewhere.
class BaseModelsFromDatabase : public BaseModelResolver {
 public:
  explicit BaseModelsFromDatabase(const DatabaseResolver* resolver) : resolver_(resolver) {}
  absl::StatusOr<BaseModelSpec> ResolveBaseModel(const std::string& name) const override {
    return resolver_->ResolveBaseModel(name);
  }

 private:
  const DatabaseResolver* resolver_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FilterServer>> FilterServer::Start(
    const FilterServerOptions& options, metrics::Metrics* metrics) {
  if (options.database == nullptr && options.teacher_root.empty()) {
    return absl::InvalidArgumentError(
        "the filter service needs a database or a teacher root folder to find teachers; set one");
  }
  std::unique_ptr<FilterServer> server(new FilterServer());

  std::vector<const TeacherResolver*> chain;
  const DatabaseResolver* database_resolver = nullptr;
  if (options.database != nullptr) {
    auto resolver = std::make_unique<DatabaseResolver>(options.database);
    database_resolver = resolver.get();
    chain.push_back(resolver.get());
    server->owned_teacher_resolvers_.push_back(std::move(resolver));
  }
  if (!options.teacher_root.empty()) {
    auto resolver = std::make_unique<FolderTeacherResolver>(options.teacher_root);
    chain.push_back(resolver.get());
    server->owned_teacher_resolvers_.push_back(std::move(resolver));
  }
  server->teacher_resolver_ = std::make_unique<ChainedTeacherResolver>(std::move(chain));

  if (database_resolver != nullptr) {
    server->base_model_resolver_ = std::make_unique<BaseModelsFromDatabase>(database_resolver);
  } else if (!options.base_models_file.empty()) {
    absl::StatusOr<BaseModelCatalog> catalog = BaseModelCatalog::Load(options.base_models_file);
    if (!catalog.ok()) return catalog.status();
    server->base_model_resolver_ = std::make_unique<BaseModelCatalog>(*std::move(catalog));
  }

  server->executor_ = std::make_unique<ModelExecutor>(options.executor);
  server->base_models_ = std::make_unique<BaseModelRegistry>();
  server->teachers_ = std::make_unique<TeacherCache>(server->teacher_resolver_.get(),
                                                     server->base_models_.get(), options.teachers);
  server->generator_ = std::make_unique<AdapterGenerator>(server->base_models_.get());
  server->service_ = std::make_unique<FilterServiceImpl>(
      server->executor_.get(), server->teachers_.get(), server->generator_.get(),
      server->base_model_resolver_.get(), metrics, options.service);

  absl::StatusOr<services::StartedServer> started =
      services::StartGrpcServer(options.grpc, {server->service_.get()}, metrics);
  if (!started.ok()) return started.status();
  server->server_ = std::move(started->server);
  // A health check that names this service reports SERVING, like the whole-server check.
  server->server_->GetHealthCheckService()->SetServingStatus(
      v1::FilterService::service_full_name(), true);
  server->port_ = started->port;
  LOG(INFO) << "Filter service ready on port " << server->port_ << " with "
            << server->executor_->threads() << " model threads, at most "
            << options.teachers.max_teachers << " teachers loaded"
            << (options.database != nullptr ? ", teachers from the database" : "")
            << (options.teacher_root.empty() ? "" : ", teachers from " + options.teacher_root);
  return server;
}

FilterServer::~FilterServer() { Shutdown(); }

void FilterServer::Shutdown(double grace_seconds) {
  if (server_ != nullptr) {
    const auto deadline =
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000));
    server_->Shutdown(deadline);
    server_->Wait();
    server_.reset();
    LOG(INFO) << "Filter service stopped serving on port " << port_;
  }
  if (executor_ != nullptr) executor_->Shutdown();
}

}  // namespace reftune::filter
