#include "services/gateway/job_request.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace reftune::gateway {
namespace {

using services::FieldViolation;
using Violations = std::vector<FieldViolation>;

const std::vector<std::string>& KnownTargetModules() {
  static const std::vector<std::string> modules = {"q_proj", "k_proj",   "v_proj",   "o_proj",
                                                   "gate_proj", "up_proj", "down_proj"};
  return modules;
}

// Checks low <= value <= high and records a violation naming the field and the value.
template <typename T>
void CheckRange(const std::string& field, T value, T low, T high, Violations* violations) {
  if (value >= low && value <= high) return;
  violations->push_back(
      {field, absl::StrCat(field, " must be in [", low, ", ", high, "], got ", value)});
}

void CheckPositive(const std::string& field, double value, Violations* violations) {
  if (std::isfinite(value) && value > 0) return;
  violations->push_back({field, absl::StrCat(field, " must be greater than 0, got ", value)});
}

void CheckNonNegative(const std::string& field, double value, Violations* violations) {
  if (std::isfinite(value) && value >= 0) return;
  violations->push_back({field, absl::StrCat(field, " must be at least 0, got ", value)});
}

bool IsSuffixCharacter(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

v1::Hyperparameters ResolveHyperparameters(const v1::Hyperparameters& requested,
                                           int context_length, Violations* violations) {
  v1::Hyperparameters out = requested;
  const std::string prefix = "hyperparameters.";

  if (!out.has_lora_r()) out.set_lora_r(16);
  CheckRange(prefix + "lora_r", out.lora_r(), 1, 256, violations);
  if (!out.has_lora_alpha()) out.set_lora_alpha(32);
  CheckPositive(prefix + "lora_alpha", out.lora_alpha(), violations);
  if (!out.has_lora_dropout()) out.set_lora_dropout(0);
  if (!(out.lora_dropout() >= 0 && out.lora_dropout() < 1)) {
    violations->push_back({prefix + "lora_dropout",
                           absl::StrCat(prefix, "lora_dropout must be in [0, 1), got ",
                                        out.lora_dropout())});
  }

  if (out.target_modules().empty()) {
    for (const std::string& module : KnownTargetModules()) out.add_target_modules(module);
  }
  std::set<std::string> seen;
  for (const std::string& module : out.target_modules()) {
    const auto& known = KnownTargetModules();
    if (std::find(known.begin(), known.end(), module) == known.end()) {
      violations->push_back({prefix + "target_modules",
                             absl::StrCat("target module \"", module, "\" is unknown; use any of ",
                                          absl::StrJoin(known, ", "))});
    } else if (!seen.insert(module).second) {
      violations->push_back({prefix + "target_modules",
                             absl::StrCat("target module \"", module, "\" is listed twice")});
    }
  }

  if (!out.has_learning_rate()) out.set_learning_rate(3e-3);
  if (!(out.learning_rate() > 0 && out.learning_rate() <= 1)) {
    violations->push_back({prefix + "learning_rate",
                           absl::StrCat(prefix, "learning_rate must be in (0, 1], got ",
                                        out.learning_rate())});
  }
  if (!out.has_epochs()) out.set_epochs(5);
  CheckRange(prefix + "epochs", out.epochs(), 1, 100, violations);
  if (!out.has_batch_size()) out.set_batch_size(16);
  CheckRange(prefix + "batch_size", out.batch_size(), 1, 512, violations);

  const int max_context = context_length > 0 ? context_length : std::numeric_limits<int>::max();
  if (!out.has_max_seq_len()) out.set_max_seq_len(std::min(256, max_context));
  CheckRange(prefix + "max_seq_len", out.max_seq_len(), 16, max_context, violations);
  if (!out.has_max_answer_tokens()) {
    out.set_max_answer_tokens(std::min(64, std::max(1, out.max_seq_len())));
  }
  CheckRange(prefix + "max_answer_tokens", out.max_answer_tokens(), 1,
             std::max(1, out.max_seq_len()), violations);

  if (!out.has_warmup_steps()) out.set_warmup_steps(10);
  CheckRange(prefix + "warmup_steps", out.warmup_steps(), 0, std::numeric_limits<int>::max(),
             violations);
  if (!out.has_kl_alpha()) out.set_kl_alpha(0.1);
  CheckNonNegative(prefix + "kl_alpha", out.kl_alpha(), violations);
  if (!out.has_kl_temperature()) out.set_kl_temperature(1);
  CheckPositive(prefix + "kl_temperature", out.kl_temperature(), violations);
  if (!out.has_max_grad_norm()) out.set_max_grad_norm(1);
  CheckPositive(prefix + "max_grad_norm", out.max_grad_norm(), violations);
  if (!out.has_checkpoint_interval_steps()) out.set_checkpoint_interval_steps(50);
  CheckRange(prefix + "checkpoint_interval_steps", out.checkpoint_interval_steps(), 1,
             std::numeric_limits<int>::max(), violations);

  if (out.overlong_records() == v1::OVERLONG_RECORDS_UNSPECIFIED) {
    out.set_overlong_records(v1::OVERLONG_RECORDS_REJECT);
  } else if (!v1::OverlongRecords_IsValid(out.overlong_records())) {
    violations->push_back({prefix + "overlong_records",
                           absl::StrCat("overlong_records ", out.overlong_records(),
                                        " is unknown; use REJECT or SKIP")});
  }
  return out;
}

void CheckCreateJobFields(const v1::CreateJobRequest& request, Violations* violations) {
  if (request.dataset_id().empty()) {
    violations->push_back({"dataset_id", "dataset_id is required; pass an uploaded dataset's id"});
  }
  if (request.base_model().empty()) {
    violations->push_back(
        {"base_model", "base_model is required; ListBaseModels shows the registered names"});
  }
  if (!v1::SafetyMode_IsValid(request.safety_mode())) {
    violations->push_back({"safety_mode", absl::StrCat("safety_mode ", request.safety_mode(),
                                                       " is unknown")});
  }
  if (request.has_filter_threshold() &&
      !(request.filter_threshold() >= -1 && request.filter_threshold() <= 1)) {
    violations->push_back({"filter_threshold",
                           absl::StrCat("filter_threshold must be in [-1, 1], got ",
                                        request.filter_threshold())});
  }
  const std::string& suffix = request.suffix();
  if (suffix.size() > 40 || !std::all_of(suffix.begin(), suffix.end(), IsSuffixCharacter)) {
    violations->push_back({"suffix", absl::StrCat("suffix must be up to 40 characters of "
                                                  "[a-z0-9-], got \"", suffix, "\"")});
  }
  if (request.request_id().empty() || request.request_id().size() > 128) {
    violations->push_back({"request_id", absl::StrCat("request_id must be 1 to 128 characters, got ",
                                                      request.request_id().size())});
  }
  if (request.wall_time_limit_seconds() < 0) {
    violations->push_back({"wall_time_limit_seconds",
                           absl::StrCat("wall_time_limit_seconds must be at least 0, got ",
                                        request.wall_time_limit_seconds())});
  }
}

bool NeedsTeacher(v1::SafetyMode mode) {
  return mode != v1::SAFETY_MODE_SFT;
}

v1::TeacherSettings ResolveTeacherSettings(const v1::TeacherSettings& requested,
                                           Violations* violations) {
  v1::TeacherSettings out = requested;
  const std::string prefix = "settings.";
  if (!out.has_lora_r()) out.set_lora_r(16);
  CheckRange(prefix + "lora_r", out.lora_r(), 1, 256, violations);
  if (!out.has_lora_alpha()) out.set_lora_alpha(32);
  CheckPositive(prefix + "lora_alpha", out.lora_alpha(), violations);
  if (!out.has_learning_rate()) out.set_learning_rate(2e-3);
  if (!(out.learning_rate() > 0 && out.learning_rate() <= 1)) {
    violations->push_back({prefix + "learning_rate",
                           absl::StrCat(prefix, "learning_rate must be in (0, 1], got ",
                                        out.learning_rate())});
  }
  if (!out.has_epochs()) out.set_epochs(4);
  CheckRange(prefix + "epochs", out.epochs(), 1, 100, violations);
  if (!out.has_batch_size()) out.set_batch_size(16);
  CheckRange(prefix + "batch_size", out.batch_size(), 2, 512, violations);
  if (!out.has_lambda()) out.set_lambda(0.1);
  CheckNonNegative(prefix + "lambda", out.lambda(), violations);
  if (!out.has_feature_update_interval_steps()) out.set_feature_update_interval_steps(20);
  CheckRange(prefix + "feature_update_interval_steps", out.feature_update_interval_steps(), 1,
             std::numeric_limits<int>::max(), violations);
  if (out.has_layer()) {
    CheckRange(prefix + "layer", out.layer(), 0, std::numeric_limits<int>::max(), violations);
  }
  if (out.has_threshold()) CheckRange(prefix + "threshold", out.threshold(), -1.0, 1.0, violations);
  if (!out.has_max_seq_len()) out.set_max_seq_len(256);
  CheckRange(prefix + "max_seq_len", out.max_seq_len(), 16, std::numeric_limits<int>::max(),
             violations);
  if (!out.has_max_answer_tokens()) out.set_max_answer_tokens(std::min(64, out.max_seq_len()));
  CheckRange(prefix + "max_answer_tokens", out.max_answer_tokens(), 1,
             std::max(1, out.max_seq_len()), violations);
  return out;
}

nlohmann::json MessageToJsonObject(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

absl::Status ViolationsToStatus(const std::string& what, const Violations& violations) {
  if (violations.empty()) return absl::OkStatus();
  return services::InvalidArgumentWithViolations(
      absl::StrCat(what, " has ", violations.size(), " invalid field(s):"), violations,
      static_cast<int64_t>(violations.size()));
}

}  // namespace reftune::gateway
