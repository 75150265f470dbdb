// Lookups that the filter service needs: a teacher id to its artifact folder and base model, and
// a registered base model name to its files.
#ifndef REFTUNE_SERVICES_FILTER_MODEL_RESOLVERS_H_
#define REFTUNE_SERVICES_FILTER_MODEL_RESOLVERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/filter/base_model_spec.h"

namespace reftune::filter {

struct TeacherLocation {
  // Folder written by method::SaveTeacher: the adapter, R^l and teacher.json.
  std::string folder;
  BaseModelSpec base_model;
};

// Implementations must be thread-safe.
class TeacherResolver {
 public:
  virtual ~TeacherResolver() = default;

  // NOT_FOUND for an unknown id; INVALID_ARGUMENT for an id that can never be valid.
  virtual absl::StatusOr<TeacherLocation> Resolve(const std::string& teacher_id) const = 0;
};

// Implementations must be thread-safe.
class BaseModelResolver {
 public:
  virtual ~BaseModelResolver() = default;

  // NOT_FOUND for an unknown name.
  virtual absl::StatusOr<BaseModelSpec> ResolveBaseModel(const std::string& name) const = 0;
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_MODEL_RESOLVERS_H_
