#include "services/worker/job_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/artifacts/artifact_store.h"
#include "core/common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/worker/job_failure.h"

namespace reftune::worker {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> ParseObject(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return InvalidDataError(absl::StrCat("job config is not a JSON object: ", text.substr(0, 200)));
  }
  return parsed;
}

// The value under the snake_case key or its lowerCamelCase form; null when neither is set.
const Json& Field(const Json& object, const std::string& snake_name) {
  static const Json kNull;
  if (auto it = object.find(snake_name); it != object.end()) return *it;
  std::string camel;
  bool upper = false;
  for (char c : snake_name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    camel += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (auto it = object.find(camel); it != object.end()) return *it;
  return kNull;
}

absl::StatusOr<std::string> StringField(const Json& object, const std::string& name,
                                        bool required) {
  const Json& value = Field(object, name);
  if (value.is_null()) {
    if (required) return InvalidDataError(absl::StrCat("job config has no \"", name, "\""));
    return std::string();
  }
  if (!value.is_string()) {
    return InvalidDataError(
        absl::StrCat("job config \"", name, "\" must be a string, got ", value.dump()));
  }
  if (required && value.get<std::string>().empty()) {
    return InvalidDataError(absl::StrCat("job config \"", name, "\" is empty"));
  }
  return value.get<std::string>();
}

// Proto JSON prints 64-bit integers as strings, so both forms are accepted.
absl::StatusOr<int64_t> IntegerField(const Json& object, const std::string& name) {
  const Json& value = Field(object, name);
  if (value.is_null()) return 0;
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    char* end = nullptr;
    const long long parsed = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && end != nullptr && *end == '\0') return static_cast<int64_t>(parsed);
  }
  return InvalidDataError(
      absl::StrCat("job config \"", name, "\" must be an integer, got ", value.dump()));
}

absl::Status ParseMessage(const Json& object, const std::string& name,
                          google::protobuf::Message* message) {
  const Json& value = Field(object, name);
  if (value.is_null()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(value.dump(), message, options);
  if (!status.ok()) {
    return InvalidDataError(absl::StrCat("job config \"", name, "\" is malformed: ",
                                         status.ToString()));
  }
  return absl::OkStatus();
}

uint64_t SeedOrOne(int64_t seed) { return seed == 0 ? 1 : static_cast<uint64_t>(seed); }

}  // namespace

absl::StatusOr<FinetuneJobConfig> ParseFinetuneJobConfig(const std::string& config_json) {
  REFTUNE_ASSIGN_OR_RETURN(Json json, ParseObject(config_json));
  FinetuneJobConfig config;
  REFTUNE_ASSIGN_OR_RETURN(config.dataset_id, StringField(json, "dataset_id", true));
  REFTUNE_ASSIGN_OR_RETURN(config.validation_dataset_id,
                           StringField(json, "validation_dataset_id", false));
  REFTUNE_ASSIGN_OR_RETURN(config.base_model, StringField(json, "base_model", true));

  REFTUNE_ASSIGN_OR_RETURN(std::string mode_name, StringField(json, "safety_mode", false));
  if (absl::StartsWith(mode_name, "SAFETY_MODE_")) mode_name = mode_name.substr(12);
  if (mode_name.empty() || mode_name == "UNSPECIFIED") mode_name = "REF_TEACHER";
  absl::StatusOr<method::FinetuneMode> mode = method::ParseFinetuneMode(mode_name);
  if (!mode.ok()) return InvalidDataError(mode.status().message());
  config.mode = *mode;

  const Json& threshold = Field(json, "filter_threshold");
  if (threshold.is_number()) config.filter_threshold = threshold.get<double>();

  REFTUNE_ASSIGN_OR_RETURN(int64_t seed, IntegerField(json, "seed"));
  config.seed = SeedOrOne(seed);
  REFTUNE_ASSIGN_OR_RETURN(config.suffix, StringField(json, "suffix", false));
  REFTUNE_ASSIGN_OR_RETURN(config.wall_time_limit_seconds,
                           IntegerField(json, "wall_time_limit_seconds"));
  REFTUNE_RETURN_IF_ERROR(ParseMessage(json, "hyperparameters", &config.hyperparameters));

  const Json& skipped = Field(json, "skipped_lines");
  if (skipped.is_array()) {
    for (const Json& line : skipped) {
      if (line.is_number_integer()) config.skipped_lines.push_back(line.get<int64_t>());
    }
  }
  return config;
}

absl::StatusOr<TeacherJobConfig> ParseTeacherJobConfig(const std::string& config_json) {
  REFTUNE_ASSIGN_OR_RETURN(Json json, ParseObject(config_json));
  TeacherJobConfig config;
  REFTUNE_ASSIGN_OR_RETURN(config.base_model, StringField(json, "base_model", true));
  REFTUNE_ASSIGN_OR_RETURN(config.alignment_dataset_id,
                           StringField(json, "alignment_dataset_id", true));
  REFTUNE_ASSIGN_OR_RETURN(config.harmful_eval_dataset_id,
                           StringField(json, "harmful_eval_dataset_id", false));
  REFTUNE_RETURN_IF_ERROR(ParseMessage(json, "settings", &config.settings));
  REFTUNE_ASSIGN_OR_RETURN(int64_t seed, IntegerField(json, "seed"));
  config.seed = SeedOrOne(seed);
  REFTUNE_ASSIGN_OR_RETURN(config.wall_time_limit_seconds,
                           IntegerField(json, "wall_time_limit_seconds"));
  return config;
}

int64_t WallTimeLimitSeconds(const std::string& config_json) {
  absl::StatusOr<Json> json = ParseObject(config_json);
  if (!json.ok()) return 0;
  absl::StatusOr<int64_t> seconds = IntegerField(*json, "wall_time_limit_seconds");
  return seconds.ok() ? *seconds : 0;
}

absl::StatusOr<std::string> CanonicalConfigHash(const std::string& config_json) {
  REFTUNE_ASSIGN_OR_RETURN(Json json, ParseObject(config_json));
  // nlohmann::json objects keep their keys sorted, so dump() is canonical.
  return artifacts::Sha256Hex(json.dump());
}

}  // namespace reftune::worker
