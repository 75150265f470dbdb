// Base models listed in a JSON file, for deployments without a database:
//   {"base_models": [{"name": "stories260K", "format": "llama2c", "path": "...",
//                     "tokenizer_path": "...", "end_of_answer_token_id": 1,
//                     "prompt_template": "..."}, ...]}
// Relative paths are taken relative to the file's folder.
#ifndef REFTUNE_SERVICES_FILTER_BASE_MODEL_CATALOG_H_
#define REFTUNE_SERVICES_FILTER_BASE_MODEL_CATALOG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "services/filter/model_resolvers.h"

namespace reftune::filter {

// Immutable after Load, so thread-safe.
class BaseModelCatalog : public BaseModelResolver {
 public:
  // Reads and validates the whole file. INVALID_ARGUMENT names the entry that is malformed or
  // a name that appears twice.
  static absl::StatusOr<BaseModelCatalog> Load(const std::string& path);

  absl::StatusOr<BaseModelSpec> ResolveBaseModel(const std::string& name) const override;

 private:
  std::string path_;
  std::map<std::string, BaseModelSpec> models_;
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_BASE_MODEL_CATALOG_H_
