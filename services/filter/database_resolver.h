// Teachers and base models as registered in PostgreSQL through the operator API.
#ifndef REFTUNE_SERVICES_FILTER_DATABASE_RESOLVER_H_
#define REFTUNE_SERVICES_FILTER_DATABASE_RESOLVER_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/store/base_model_store.h"
#include "core/store/database.h"
#include "core/store/teacher_store.h"
#include "services/filter/model_resolvers.h"

namespace reftune::filter {

// A teacher row's adapter_path is taken as the folder written by method::SaveTeacher; the layer,
// R^l and threshold are read from that folder, not from the row. Thread-safe.
class DatabaseResolver : public TeacherResolver, public BaseModelResolver {
 public:
  // `database` is not owned and must outlive the resolver.
  explicit DatabaseResolver(store::Database* database)
      : teachers_(database), base_models_(database) {}

  absl::StatusOr<TeacherLocation> Resolve(const std::string& teacher_id) const override;
  absl::StatusOr<BaseModelSpec> ResolveBaseModel(const std::string& name) const override;

 private:
  // The stores' methods are not const, though they only read here.
  mutable store::TeacherStore teachers_;
  mutable store::BaseModelStore base_models_;
};

// Converts a base_models row.
BaseModelSpec BaseModelSpecFromRecord(const store::BaseModelRecord& record);

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_DATABASE_RESOLVER_H_
