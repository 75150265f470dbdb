#include "services/filter/base_model_catalog.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"

namespace reftune::filter {

absl::StatusOr<BaseModelCatalog> BaseModelCatalog::Load(const std::string& path) {
  absl::StatusOr<nlohmann::json> json = data::ReadJsonFile(path);
  if (!json.ok()) return json.status();
  if (!json->is_object() || !json->contains("base_models") || !json->at("base_models").is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object with a \"base_models\" array"));
  }

  BaseModelCatalog catalog;
  catalog.path_ = path;
  const std::string folder = std::filesystem::path(path).parent_path().string();
  const nlohmann::json& entries = json->at("base_models");
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string source = absl::StrCat(path, ": base_models[", i, "]");
    absl::StatusOr<BaseModelSpec> spec = BaseModelSpecFromJson(entries[i], source, folder);
    if (!spec.ok()) return spec.status();
    if (spec->name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": name is empty"));
    }
    if (!catalog.models_.emplace(spec->name, *spec).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": name \"", spec->name, "\" appears twice"));
    }
  }
  return catalog;
}

absl::StatusOr<BaseModelSpec> BaseModelCatalog::ResolveBaseModel(const std::string& name) const {
  const auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(
        absl::StrCat("base model \"", name, "\" not found in ", path_));
  }
  return it->second;
}

}  // namespace reftune::filter
