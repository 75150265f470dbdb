// The filter service process assembled from its parts: model executor, base models, teacher cache,
// generator and the gRPC server. Used by the reftune-filter binary and by tests.
#ifndef REFTUNE_SERVICES_FILTER_FILTER_SERVER_H_
#define REFTUNE_SERVICES_FILTER_FILTER_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/metrics/metrics.h"
#include "core/store/database.h"
#include "services/common/grpc_server.h"
#include "services/filter/adapter_generator.h"
#include "services/filter/base_model_catalog.h"
#include "services/filter/base_model_registry.h"
#include "services/filter/filter_service_impl.h"
#include "services/filter/model_executor.h"
#include "services/filter/model_resolvers.h"
#include "services/filter/teacher_cache.h"

namespace reftune::filter {

struct FilterServerOptions {
  services::GrpcServerOptions grpc;
  // Teachers and base models registered in PostgreSQL; not owned, may be null. When set, teacher
  // ids are looked up there first.
  store::Database* database = nullptr;
  // Folder with one subfolder per teacher id (see FolderTeacherResolver); empty disables it.
  std::string teacher_root;
  // JSON file of base models for GenerateWithAdapter without a database (see BaseModelCatalog);
  // empty disables it. Ignored when `database` is set.
  std::string base_models_file;
  ModelExecutorOptions executor;
  TeacherCacheOptions teachers;
  FilterServiceOptions service;
};

// Owns every part; destruction shuts the server down.
class FilterServer {
 public:
  // Builds the parts and starts serving. INVALID_ARGUMENT when neither a database nor a teacher
  // root is given, or when the base model file is malformed; UNAVAILABLE when the address cannot
  // be bound. `metrics` is not owned and may be null.
  static absl::StatusOr<std::unique_ptr<FilterServer>> Start(const FilterServerOptions& options,
                                                             metrics::Metrics* metrics);
  ~FilterServer();

  // Stops accepting calls, lets running calls finish until `grace_seconds` have passed, then
  // cancels the rest and stops the model executor. Safe to call more than once.
  void Shutdown(double grace_seconds = 10.0);

  int port() const { return port_; }
  TeacherCache& teachers() { return *teachers_; }
  ModelExecutor& executor() { return *executor_; }
  BaseModelRegistry& base_models() { return *base_models_; }

 private:
  FilterServer() = default;

  std::vector<std::unique_ptr<TeacherResolver>> owned_teacher_resolvers_;
  std::unique_ptr<TeacherResolver> teacher_resolver_;
  std::unique_ptr<BaseModelResolver> base_model_resolver_;
  std::unique_ptr<ModelExecutor> executor_;
  std::unique_ptr<BaseModelRegistry> base_models_;
  std::unique_ptr<TeacherCache> teachers_;
  std::unique_ptr<AdapterGenerator> generator_;
  std::unique_ptr<FilterServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_FILTER_SERVER_H_
