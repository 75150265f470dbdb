// EXPORTING of a finetuning job: the student adapter as a PEFT folder with reftune.json.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/artifacts/artifact_store.h"
#include "core/common/status_macros.h"
#include "core/model/adapter_io.h"
#include "glog/logging.h"
#include "services/worker/finetune_stages.h"

namespace reftune::worker {

absl::Status ExportStudent(JobRun& run, FinetuneContext& context) {
  LoadedBaseModel& base = *context.base;
  model::AdapterFiles adapter;
  adapter.config = context.lora;
  REFTUNE_ASSIGN_OR_RETURN(adapter.tensors, base.model->ExportAdapter(context.student_adapter));
  adapter.metadata = {
      {"job_id", run.job().id},
      {"base_model", context.config.base_model},
      {"safety_mode", std::string(method::FinetuneModeName(context.config.mode))},
      {"prompt_template", base.prompt_template.ToJson()},
      {"end_of_answer_token_id", base.model->config().end_of_answer_id},
      {"seed", context.config.seed},
      {"suffix", context.config.suffix},
  };
  if (context.teacher.has_value()) adapter.metadata["teacher_id"] = context.teacher->id;
  if (context.plan.merge_teacher) {
    // The adapter was trained on the base with the teacher merged, so it belongs on that sum.
    adapter.metadata["requires_merged_teacher_adapter"] = context.teacher->adapter_path;
  }

  REFTUNE_ASSIGN_OR_RETURN(std::string job_folder, run.JobFolder());
  const std::string folder = absl::StrCat(job_folder, "/adapter");
  REFTUNE_RETURN_IF_ERROR(model::SaveAdapter(folder, adapter, base.model->config()));

  nlohmann::json files = nlohmann::json::array();
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(folder, "/", name);
    REFTUNE_ASSIGN_OR_RETURN(std::string sha256, artifacts::Sha256OfFile(path));
    files.push_back({{"name", name},
                     {"size_bytes", static_cast<int64_t>(std::filesystem::file_size(path))},
                     {"sha256", sha256}});
  }
  LOG(INFO) << "job " << run.job().id << " exported " << files.size() << " adapter files to "
            << folder;
  return run.AppendEvent(kArtifactsEvent, {{"folder", folder}, {"files", files}});
}

}  // namespace reftune::worker
