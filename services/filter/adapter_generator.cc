#include "services/filter/adapter_generator.h"

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/utf8.h"
#include "core/method/teacher_artifact.h"
#include "core/model/adapter_io.h"
#include "glog/logging.h"

namespace reftune::filter {
namespace {

// Picks the request's template, else the base model's registered one, else Alpaca.
absl::StatusOr<data::PromptTemplate> ChooseTemplate(const AdapterGenerationRequest& request) {
  if (request.prompt_template.has_value()) return *request.prompt_template;
  if (request.base_model.prompt_template.empty()) return data::PromptTemplate::Alpaca();
  absl::StatusOr<data::PromptTemplate> registered =
      data::PromptTemplate::Create(request.base_model.name, request.base_model.prompt_template);
  if (!registered.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("base model \"", request.base_model.name,
                                                      "\" has an invalid prompt template: ",
                                                      registered.status().message()));
  }
  return registered;
}

// An adapter installed on a shared base model; the destructor removes it, whichever way the call
// ends.
class AdapterInstallation {
 public:
  static absl::StatusOr<std::unique_ptr<AdapterInstallation>> Install(
      std::shared_ptr<SharedBaseModel> base, const model::AdapterFiles& adapter,
      const std::string& folder) {
    const std::string name = base->UniqueAdapterName("generate");
    std::unique_lock<std::shared_mutex> lock(base->adapters_mutex());
    model::Transformer model = base->model();
    if (absl::Status status = model->ImportAdapter(name, adapter.config, adapter.tensors);
        !status.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("installing adapter ", folder, " failed: ", status.message()));
    }
    return std::unique_ptr<AdapterInstallation>(new AdapterInstallation(std::move(base), name));
  }

  ~AdapterInstallation() {
    std::unique_lock<std::shared_mutex> lock(base_->adapters_mutex());
    model::Transformer model = base_->model();
    if (absl::Status status = model->RemoveAdapter(name_); !status.ok()) {
      LOG(ERROR) << "Removing generation adapter " << name_ << " failed: " << status;
    }
  }

  const std::string& name() const { return name_; }

 private:
  AdapterInstallation(std::shared_ptr<SharedBaseModel> base, std::string name)
      : base_(std::move(base)), name_(std::move(name)) {}

  std::shared_ptr<SharedBaseModel> base_;
  std::string name_;
};

// Returns the teacher folder that the adapter's reftune.json names under
// kMergedTeacherMetadataKey, or an empty string.
std::string MergedTeacherFolder(const model::AdapterFiles& adapter) {
  if (!adapter.metadata.is_object()) return "";
  const auto it = adapter.metadata.find(kMergedTeacherMetadataKey);
  if (it == adapter.metadata.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Loads a private copy of the base model with the teacher adapter merged into its weights.
// NOTE: the copy is loaded from disk on every such call; a cache of merged bases would save that
// for models larger than stories260K.
absl::StatusOr<std::shared_ptr<SharedBaseModel>> LoadBaseWithMergedTeacher(
    BaseModelRegistry& bases, const BaseModelSpec& spec, const std::string& teacher_folder) {
  absl::StatusOr<method::TeacherArtifact> teacher = method::LoadTeacher(teacher_folder);
  if (!teacher.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("loading teacher ", teacher_folder,
                                                      " to merge under the adapter failed: ",
                                                      teacher.status().message()));
  }
  absl::StatusOr<std::shared_ptr<SharedBaseModel>> base = bases.LoadUnshared(spec);
  if (!base.ok()) return base.status();
  model::Transformer model = (*base)->model();
  absl::Status status = method::InstallTeacherAdapter(model, *teacher, "teacher");
  if (status.ok()) status = model->MergeAdapter("teacher");
  if (!status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("merging teacher ", teacher_folder,
                                                      " into base model \"", spec.name,
                                                      "\" failed: ", status.message()));
  }
  return base;
}

}  // namespace

absl::Status ValidateGenerationRequest(const AdapterGenerationRequest& request) {
  const size_t count = request.prompts.size();
  if (count < 1 || count > static_cast<size_t>(kMaxGenerationPrompts)) {
    return absl::InvalidArgumentError(absl::StrCat("prompts must contain 1 to ",
                                                   kMaxGenerationPrompts, " prompts, got ",
                                                   count));
  }
  for (size_t i = 0; i < count; ++i) {
    if (request.prompts[i].size() > kMaxGenerationPromptBytes) {
      return absl::InvalidArgumentError(absl::StrCat("prompts[", i, "] has ",
                                                     request.prompts[i].size(),
                                                     " bytes; the limit is ",
                                                     kMaxGenerationPromptBytes));
    }
  }
  const int64_t max_new_tokens = request.generation.max_new_tokens;
  if (max_new_tokens < 1 || max_new_tokens > kMaxGenerationNewTokens) {
    return absl::InvalidArgumentError(absl::StrCat("max_new_tokens must be in [1, ",
                                                   kMaxGenerationNewTokens, "], got ",
                                                   max_new_tokens));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> AdapterGenerator::Generate(
    const AdapterGenerationRequest& request) {
  if (absl::Status status = ValidateGenerationRequest(request); !status.ok()) return status;
  if (absl::Status status = ValidateBaseModelSpec(request.base_model); !status.ok()) {
    return absl::FailedPreconditionError(status.message());
  }
  absl::StatusOr<data::PromptTemplate> prompt_template = ChooseTemplate(request);
  if (!prompt_template.ok()) return prompt_template.status();

  absl::StatusOr<std::shared_ptr<SharedBaseModel>> base = bases_->Acquire(request.base_model);
  if (!base.ok()) return base.status();
  std::unique_ptr<AdapterInstallation> installation;
  if (!request.adapter_folder.empty()) {
    absl::StatusOr<model::AdapterFiles> adapter =
        model::LoadAdapter(request.adapter_folder, (*base)->model()->config());
    if (!adapter.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "loading adapter ", request.adapter_folder, " failed: ", adapter.status().message()));
    }
    // An adapter trained on the base with the teacher merged in belongs on that sum. Merging
    // changes the base weights, so it happens on a private copy, never on the shared model.
    if (const std::string teacher_folder = MergedTeacherFolder(*adapter); !teacher_folder.empty()) {
      base = LoadBaseWithMergedTeacher(*bases_, request.base_model, teacher_folder);
      if (!base.ok()) return base.status();
    }
    absl::StatusOr<std::unique_ptr<AdapterInstallation>> installed =
        AdapterInstallation::Install(*base, *adapter, request.adapter_folder);
    if (!installed.ok()) return installed.status();
    installation = *std::move(installed);
  }

  const model::Tokenizer& tokenizer = *(*base)->tokenizer();
  std::vector<std::vector<int64_t>> prompt_ids;
  prompt_ids.reserve(request.prompts.size());
  for (const std::string& prompt : request.prompts) {
    prompt_ids.push_back(
        tokenizer.Encode(prompt_template->Render(prompt), /*add_bos=*/true, /*add_eos=*/false));
  }

  model::GenerationOptions options = request.generation;
  options.adapter = installation == nullptr ? "" : installation->name();
  absl::StatusOr<std::vector<model::GeneratedSequence>> sequences;
  {
    std::shared_lock<std::shared_mutex> lock((*base)->adapters_mutex());
    model::Transformer model = (*base)->model();
    sequences = model::Generate(model, prompt_ids, options);
  }
  if (!sequences.ok()) return sequences.status();

  std::vector<std::string> completions;
  completions.reserve(sequences->size());
  for (const model::GeneratedSequence& sequence : *sequences) {
    completions.push_back(data::ReplaceInvalidUtf8(tokenizer.Decode(sequence.tokens)));
  }
  VLOG(1) << "Generated " << completions.size() << " completions on base model \""
          << request.base_model.name << "\" with adapter \"" << request.adapter_folder << "\"";
  return completions;
}

}  // namespace reftune::filter
