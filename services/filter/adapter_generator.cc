#include "services/filter/adapter_generator.h"

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/str_cat.h"
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
      std::shared_ptr<SharedBaseModel> base, const std::string& folder) {
    model::Transformer model = base->model();
    absl::StatusOr<model::AdapterFiles> adapter = model::LoadAdapter(folder, model->config());
    if (!adapter.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("loading adapter ", folder, " failed: ", adapter.status().message()));
    }
    const std::string name = base->UniqueAdapterName("generate");
    std::unique_lock<std::shared_mutex> lock(base->adapters_mutex());
    if (absl::Status status = model->ImportAdapter(name, adapter->config, adapter->tensors);
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
    absl::StatusOr<std::unique_ptr<AdapterInstallation>> installed =
        AdapterInstallation::Install(*base, request.adapter_folder);
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
    completions.push_back(tokenizer.Decode(sequence.tokens));
  }
  VLOG(1) << "Generated " << completions.size() << " completions on base model \""
          << request.base_model.name << "\" with adapter \"" << request.adapter_folder << "\"";
  return completions;
}

}  // namespace reftune::filter
