// Offline subcommands of the Ref-Teacher method on files: `reftune teacher train`,
// `reftune filter score`, `reftune finetune` and `reftune eval harmful|accuracy|filter`.
// Results go to stdout (a summary, or one JSON object with --json); logs go to stderr.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/task_formats.h"
#include "core/data/jsonl.h"
#include "core/eval/filter_quality.h"
#include "core/eval/model_evaluation.h"
#include "core/eval/refusal_judge.h"
#include "core/method/finetune_pipeline.h"
#include "core/method/teacher_pipeline.h"
#include "core/model/checkpoint.h"
#include "core/model/adapter_io.h"
#include "core/model/torch_threads.h"
#include "services/cli/commands.h"

namespace reftune::cli {
namespace {

constexpr char kStudentFile[] = "reftune_student.json";

// Flags shared by every subcommand of this group.
struct CommonFlags {
  std::string model;
  std::string tokenizer;
  std::string prompt_template = "alpaca";
  int threads = 0;
  bool json = false;
  int64_t max_seq_len = 256;
  int64_t max_answer_tokens = 64;
};

void AddCommonFlags(CLI::App* command, CommonFlags* flags) {
  command->add_option("--model", flags->model,
                      "Base model: a llama2.c .bin file or a Hugging Face Llama folder")
      ->required();
  command->add_option("--tokenizer", flags->tokenizer,
                      "llama2.c tokenizer.bin (llama2.c models only)");
  command->add_option("--template", flags->prompt_template,
                      "Prompt template when no teacher sets one: alpaca or short");
  command->add_option("--threads", flags->threads, "LibTorch threads; 0 uses every core");
  command->add_option("--max-seq-len", flags->max_seq_len, "Longest prompt + answer in tokens");
  command->add_option("--max-answer-tokens", flags->max_answer_tokens,
                      "Answers are cut to this many tokens in training");
  command->add_flag("--json", flags->json, "Print one JSON object instead of a summary");
}

struct LoadedModel {
  model::Checkpoint checkpoint;
  model::Transformer transformer{nullptr};
  data::PromptTemplate prompt_template = data::PromptTemplate::Alpaca();
};

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const CommonFlags& flags) {
  model::ConfigureTorchThreads(flags.threads);
  auto loaded = std::make_unique<LoadedModel>();
  if (std::filesystem::is_directory(flags.model)) {
    REFTUNE_ASSIGN_OR_RETURN(loaded->checkpoint, model::LoadHuggingFaceCheckpoint(flags.model));
  } else {
    REFTUNE_ASSIGN_OR_RETURN(loaded->checkpoint,
                             model::LoadLlama2cCheckpoint(flags.model, flags.tokenizer));
  }
  if (loaded->checkpoint.tokenizer == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no tokenizer for ", flags.model, "; pass --tokenizer tokenizer.bin"));
  }
  REFTUNE_ASSIGN_OR_RETURN(loaded->transformer,
                           model::CreateTransformer(loaded->checkpoint, torch::kCPU));
  REFTUNE_ASSIGN_OR_RETURN(loaded->prompt_template,
                           data::PromptTemplate::Builtin(flags.prompt_template));
  return loaded;
}

method::EncodeOptions EncodeFromFlags(const CommonFlags& flags, const LoadedModel& loaded) {
  method::EncodeOptions encode;
  encode.max_seq_len = flags.max_seq_len;
  encode.max_answer_tokens = flags.max_answer_tokens;
  encode.end_of_answer_id = loaded.checkpoint.config.end_of_answer_id;
  return encode;
}

nlohmann::json OptionalJson(const std::optional<double>& value) {
  return value.has_value() ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json QualityJson(const eval::FilterQuality& quality) {
  return {{"precision", OptionalJson(quality.precision)},
          {"recall", OptionalJson(quality.recall)},
          {"f1", OptionalJson(quality.f1)},
          {"false_positive_rate", OptionalJson(quality.false_positive_rate)},
          {"true_positives", quality.true_positives},
          {"false_positives", quality.false_positives},
          {"true_negatives", quality.true_negatives},
          {"false_negatives", quality.false_negatives}};
}

int Fail(const std::string& command, const absl::Status& status) {
  std::cerr << "reftune " << command << ": " << status.message() << "\n";
  return kExitFailure;
}

void Print(const CommonFlags& flags, const nlohmann::json& json, const std::string& summary) {
  if (flags.json) {
    std::cout << json.dump() << "\n";
  } else {
    std::cout << summary;
  }
}

// ---- teacher train ----

struct TeacherFlags {
  CommonFlags common;
  std::string alignment;
  std::string output;
  method::TeacherPipelineOptions pipeline;
  std::optional<double> fixed_threshold;
  int64_t fixed_layer = -1;
};

int RunTeacherTrain(TeacherFlags& flags) {
  auto loaded = LoadModel(flags.common);
  if (!loaded.ok()) return Fail("teacher train", loaded.status());
  auto records = data::ReadRecordsFile(flags.alignment);
  if (!records.ok()) return Fail("teacher train", records.status());

  method::TeacherPipelineOptions options = flags.pipeline;
  options.training.encode = EncodeFromFlags(flags.common, **loaded);
  options.fixed_threshold = flags.fixed_threshold;
  if (flags.fixed_layer >= 0) {
    options.calibrate_layer = false;
    options.training.layer = flags.fixed_layer;
  }
  auto result = method::TrainTeacher((*loaded)->transformer, (*loaded)->checkpoint.tokenizer,
                                     (*loaded)->prompt_template, *records, options, nullptr);
  if (!result.ok()) return Fail("teacher train", result.status());
  const absl::Status saved = method::SaveTeacher(flags.output, result->teacher);
  if (!saved.ok()) return Fail("teacher train", saved);

  const method::LayerQuality& chosen = result->report.layers[result->report.chosen];
  nlohmann::json json = {{"output", flags.output},
                         {"layer", result->teacher.layer},
                         {"threshold", result->teacher.threshold},
                         {"fingerprint", result->teacher.fingerprint},
                         {"train_seconds", result->train_seconds},
                         {"initial_loss", result->initial_loss.total},
                         {"final_loss", result->final_loss.total},
                         {"report", result->report.ToJson()}};
  std::ostringstream summary;
  summary << "teacher written to " << flags.output << "\n"
          << "loss " << result->initial_loss.total << " -> " << result->final_loss.total
          << " in " << result->train_seconds << " s\n";
  for (const method::LayerQuality& layer : result->report.layers) {
    summary << "layer " << layer.layer << ": threshold " << layer.threshold << ", "
            << layer.quality.Format() << "\n";
  }
  summary << "chosen: layer " << result->teacher.layer << ", threshold "
          << result->teacher.threshold << " (held-out " << chosen.quality.Format() << ")\n";
  Print(flags.common, json, summary.str());
  return kExitOk;
}

// ---- filter score / eval filter ----

struct FilterFlags {
  CommonFlags common;
  std::string teacher;
  std::string input;
  std::string output;
  std::optional<double> threshold;
};

int RunFilterScore(const FilterFlags& flags, const std::string& command) {
  auto loaded = LoadModel(flags.common);
  if (!loaded.ok()) return Fail(command, loaded.status());
  auto teacher = method::LoadTeacher(flags.teacher);
  if (!teacher.ok()) return Fail(command, teacher.status());
  const absl::Status installed =
      method::InstallTeacherAdapter((*loaded)->transformer, *teacher, "teacher");
  if (!installed.ok()) return Fail(command, installed);
  // Only prompts are scored, so prompt-only files such as evaluation prompt sets are accepted.
  data::RecordParseOptions prompts_only;
  prompts_only.require_response = false;
  auto records = data::ReadRecordsFile(flags.input, prompts_only);
  if (!records.ok()) return Fail(command, records.status());

  method::PromptFilterOptions options;
  options.threshold = flags.threshold;
  options.encode = EncodeFromFlags(flags.common, **loaded);
  const method::PromptFilter filter((*loaded)->transformer, (*loaded)->checkpoint.tokenizer,
                                    *teacher, options);
  std::vector<std::string> prompts;
  for (const data::Record& record : *records) prompts.push_back(record.prompt);
  const auto start = std::chrono::steady_clock::now();
  auto decisions = filter.Score(prompts);
  if (!decisions.ok()) return Fail(command, decisions.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<bool> filtered;
  std::vector<bool> labels;
  bool labelled = true;
  int64_t filtered_count = 0;
  std::ofstream out;
  if (!flags.output.empty()) out.open(flags.output, std::ios::trunc);
  for (size_t i = 0; i < decisions->size(); ++i) {
    const method::FilterDecision& decision = (*decisions)[i];
    filtered.push_back(decision.filtered);
    filtered_count += decision.filtered ? 1 : 0;
    const data::Record& record = (*records)[i];
    if (record.meta.has_value() && record.meta->harmful.has_value()) {
      labels.push_back(*record.meta->harmful);
    } else {
      labelled = false;
    }
    if (out.is_open()) {
      out << nlohmann::json{{"line", record.line},
                            {"cosine", decision.cosine},
                            {"filtered", decision.filtered}}
                 .dump()
          << "\n";
    }
  }

  nlohmann::json json = {{"prompts", decisions->size()},
                         {"filtered", filtered_count},
                         {"threshold", filter.threshold()},
                         {"layer", filter.layer()},
                         {"prompts_per_second", decisions->size() / std::max(seconds, 1e-9)}};
  std::ostringstream summary;
  summary << filtered_count << " of " << decisions->size() << " prompts filtered (layer "
          << filter.layer() << ", threshold " << filter.threshold() << ")\n";
  if (labelled && !labels.empty()) {
    auto quality = eval::ComputeFilterQuality(filtered, labels);
    if (!quality.ok()) return Fail(command, quality.status());
    json["quality"] = QualityJson(*quality);
    summary << quality->Format() << "\n";
  }
  Print(flags.common, json, summary.str());
  return kExitOk;
}

// ---- finetune ----

struct FinetuneFlags {
  CommonFlags common;
  std::string mode = "REF_TEACHER";
  std::string teacher;
  std::string train;
  std::string alignment;
  std::string output;
  method::FinetuneOptions options;
  // Evaluation right after training (optional).
  std::string eval_harmful;
  std::string eval_task;
  std::string eval_task_file;
  int64_t eval_limit = 0;
};

// Evaluation flags shared by `finetune` and `eval`.
struct EvalFlags {
  std::string harmful_prompts;
  std::string judge_alignment;
  std::string task;
  std::string task_file;
  int64_t limit = 0;
  int64_t max_new_tokens = 64;
};

std::vector<data::Record> Limit(std::vector<data::Record> records, int64_t limit) {
  if (limit > 0 && static_cast<int64_t>(records.size()) > limit) records.resize(limit);
  return records;
}

// Runs the evaluations named in `flags` with `adapter` and adds their results to `json`.
absl::Status RunEvaluations(LoadedModel& loaded, const data::PromptTemplate& prompt_template,
                            const std::string& adapter, const EvalFlags& flags,
                            nlohmann::json* json, std::ostringstream* summary) {
  eval::AnswerOptions answer_options;
  answer_options.adapter = adapter;
  answer_options.max_new_tokens = flags.max_new_tokens;
  if (!flags.harmful_prompts.empty()) {
    if (flags.judge_alignment.empty()) {
      return absl::InvalidArgumentError(
          "the harmful score needs --judge-alignment, the alignment JSONL whose refusals the "
          "judge recognises");
    }
    REFTUNE_ASSIGN_OR_RETURN(auto judge, eval::RefusalJudge::FromAlignmentFile(flags.judge_alignment));
    data::RecordParseOptions prompts_only;
    prompts_only.require_response = false;
    REFTUNE_ASSIGN_OR_RETURN(auto records,
                             data::ReadRecordsFile(flags.harmful_prompts, prompts_only));
    REFTUNE_ASSIGN_OR_RETURN(
        auto evaluation,
        eval::EvaluateHarmfulScore(loaded.transformer, *loaded.checkpoint.tokenizer,
                                   prompt_template, Limit(records, flags.limit), *judge,
                                   answer_options));
    (*json)["harmful_score"] = nlohmann::json{{"total", evaluation.score.total},
                                {"strict_percent", evaluation.score.strict_percent()},
                                {"content_percent", evaluation.score.content_percent()},
                                {"refusals", evaluation.score.refusals}};
    *summary << "harmful score: " << evaluation.score.Format() << "\n";
  }
  if (!flags.task.empty()) {
    REFTUNE_ASSIGN_OR_RETURN(data::TaskKind task, data::ParseTaskKind(flags.task));
    REFTUNE_ASSIGN_OR_RETURN(auto records, data::ReadRecordsFile(flags.task_file));
    REFTUNE_ASSIGN_OR_RETURN(
        auto accuracy,
        eval::EvaluateTaskAccuracy(loaded.transformer, *loaded.checkpoint.tokenizer,
                                   prompt_template, task, Limit(records, flags.limit),
                                   answer_options));
    (*json)["accuracy"] = nlohmann::json{{"task", flags.task},
                           {"total", accuracy.total},
                           {"correct", accuracy.correct},
                           {"unparsed", accuracy.unparsed},
                           {"percent", accuracy.percent()}};
    *summary << flags.task << " accuracy: " << accuracy.percent() << "% (" << accuracy.correct
             << "/" << accuracy.total << ")\n";
  }
  return absl::OkStatus();
}

void AddEvalFlags(CLI::App* command, EvalFlags* flags, bool for_finetune) {
  const std::string prefix = for_finetune ? "--eval-" : "--";
  command->add_option(prefix + "harmful", flags->harmful_prompts,
                      "Harmful prompts JSONL to compute the harmful score on");
  command->add_option("--judge-alignment", flags->judge_alignment,
                      "Alignment JSONL whose refusal answers the judge recognises");
  command->add_option(prefix + "task", flags->task, "Task of the accuracy set: sst2, agnews, gsm8k");
  command->add_option(prefix + "task-file", flags->task_file, "Labelled task JSONL");
  command->add_option(prefix + "limit", flags->limit, "Evaluate the first N rows; 0 means all");
  command->add_option("--max-new-tokens", flags->max_new_tokens, "Tokens per generated answer");
}

int RunFinetune(const FinetuneFlags& flags, const EvalFlags& eval_flags) {
  auto loaded = LoadModel(flags.common);
  if (!loaded.ok()) return Fail("finetune", loaded.status());
  auto mode = method::ParseFinetuneMode(flags.mode);
  if (!mode.ok()) return Fail("finetune", mode.status());
  std::optional<method::TeacherArtifact> teacher;
  if (!flags.teacher.empty()) {
    auto loaded_teacher = method::LoadTeacher(flags.teacher);
    if (!loaded_teacher.ok()) return Fail("finetune", loaded_teacher.status());
    teacher = *std::move(loaded_teacher);
  }
  auto user = data::ReadRecordsFile(flags.train);
  if (!user.ok()) return Fail("finetune", user.status());
  std::vector<data::Record> alignment;
  if (!flags.alignment.empty()) {
    auto records = data::ReadRecordsFile(flags.alignment);
    if (!records.ok()) return Fail("finetune", records.status());
    alignment = *std::move(records);
  }

  method::FinetuneOptions options = flags.options;
  options.mode = *mode;
  options.encode = EncodeFromFlags(flags.common, **loaded);
  auto outcome = method::RunFinetune((*loaded)->transformer, (*loaded)->checkpoint.tokenizer,
                                     teacher ? &*teacher : nullptr, (*loaded)->prompt_template,
                                     *user, alignment, options, nullptr);
  if (!outcome.ok()) return Fail("finetune", outcome.status());
  const data::PromptTemplate& used_template =
      teacher ? teacher->prompt_template : (*loaded)->prompt_template;

  nlohmann::json json = {{"mode", flags.mode},
                         {"user_rows", user->size()},
                         {"filtered_rows", outcome->filtered_rows},
                         {"kept_rows", outcome->kept_rows},
                         {"steps", outcome->steps},
                         {"filter_seconds", outcome->filter_seconds},
                         {"train_seconds", outcome->train_seconds},
                         {"teacher_merged", outcome->teacher_merged}};
  if (outcome->soft_label_cache_hit.has_value()) {
    json["soft_label_cache_hit"] = *outcome->soft_label_cache_hit;
  }
  std::ostringstream summary;
  summary << flags.mode << ": " << outcome->kept_rows << " of " << user->size()
          << " user rows kept, " << outcome->steps << " steps in " << outcome->train_seconds
          << " s\n";
  int poison = 0;
  int poison_filtered = 0;
  for (size_t i = 0; i < outcome->decisions.size(); ++i) {
    if (!data::IsMarkedPoison((*user)[i])) continue;
    ++poison;
    poison_filtered += outcome->decisions[i].filtered ? 1 : 0;
  }
  if (!outcome->decisions.empty()) {
    json["poison_rows"] = poison;
    json["poison_filtered"] = poison_filtered;
  }

  if (!flags.output.empty()) {
    auto tensors = (*loaded)->transformer->ExportAdapter(options.student.adapter_name);
    if (!tensors.ok()) return Fail("finetune", tensors.status());
    model::AdapterFiles adapter_files;
    adapter_files.config = options.student.lora;
    adapter_files.config.base_model_name_or_path = flags.common.model;
    adapter_files.tensors = *std::move(tensors);
    const absl::Status written = model::SaveAdapter(
        flags.output, adapter_files, (*loaded)->transformer->config());
    if (!written.ok()) return Fail("finetune", written);
    std::ofstream(flags.output + "/" + kStudentFile)
        << nlohmann::json{{"mode", flags.mode},
                          {"prompt_template", used_template.ToJson()},
                          {"teacher", flags.teacher},
                          {"teacher_merged", outcome->teacher_merged}}
               .dump(2);
    summary << "student adapter written to " << flags.output << "\n";
  }

  const absl::Status evaluated = RunEvaluations(**loaded, used_template,
                                                options.student.adapter_name, eval_flags, &json,
                                                &summary);
  if (!evaluated.ok()) return Fail("finetune", evaluated);
  Print(flags.common, json, summary.str());
  return kExitOk;
}

// ---- eval harmful|accuracy ----

struct EvalCommandFlags {
  CommonFlags common;
  std::string adapter;
  EvalFlags eval;
};

int RunEval(const EvalCommandFlags& flags, const std::string& command) {
  auto loaded = LoadModel(flags.common);
  if (!loaded.ok()) return Fail(command, loaded.status());
  data::PromptTemplate prompt_template = (*loaded)->prompt_template;
  std::string adapter;
  if (!flags.adapter.empty()) {
    // A student folder written by `reftune finetune`: PEFT files plus reftune_student.json.
    auto description = data::ReadJsonFile(flags.adapter + "/" + kStudentFile);
    if (!description.ok()) return Fail(command, description.status());
    auto stored_template = data::PromptTemplate::FromJson((*description)["prompt_template"]);
    if (!stored_template.ok()) return Fail(command, stored_template.status());
    prompt_template = *stored_template;
    if (description->value("teacher_merged", false)) {
      auto teacher = method::LoadTeacher(description->value("teacher", ""));
      if (!teacher.ok()) return Fail(command, teacher.status());
      absl::Status merged =
          method::InstallTeacherAdapter((*loaded)->transformer, *teacher, "teacher");
      if (merged.ok()) merged = (*loaded)->transformer->MergeAdapter("teacher");
      if (!merged.ok()) return Fail(command, merged);
    }
    auto adapter_files = model::LoadAdapter(flags.adapter, (*loaded)->transformer->config());
    if (!adapter_files.ok()) return Fail(command, adapter_files.status());
    const absl::Status imported = (*loaded)->transformer->ImportAdapter(
        "student", adapter_files->config, adapter_files->tensors);
    if (!imported.ok()) return Fail(command, imported);
    adapter = "student";
  }
  nlohmann::json json = nlohmann::json::object();
  std::ostringstream summary;
  const absl::Status evaluated =
      RunEvaluations(**loaded, prompt_template, adapter, flags.eval, &json, &summary);
  if (!evaluated.ok()) return Fail(command, evaluated);
  Print(flags.common, json, summary.str());
  return kExitOk;
}

void AddFinetuneAndEvalCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<FinetuneFlags>();
  auto eval_flags = std::make_shared<EvalFlags>();
  CLI::App* finetune = app.add_subcommand(
      "finetune", "Train a student adapter from the base model in one of the finetune modes");
  AddCommonFlags(finetune, &flags->common);
  method::StudentTrainingOptions& student = flags->options.student;
  finetune->add_option("--mode", flags->mode,
                       "REF_TEACHER, SFT, ALIGNED_SFT, FILTER_ONLY or DISTILL_ONLY");
  finetune->add_option("--teacher", flags->teacher, "Teacher folder (all modes but SFT)");
  finetune->add_option("--train", flags->train, "User task JSONL")->required();
  finetune->add_option("--alignment", flags->alignment, "Alignment JSONL for distillation");
  finetune->add_option("--output", flags->output, "Student adapter folder to write");
  finetune->add_option("--epochs", student.epochs, "Passes over the kept user rows");
  finetune->add_option("--batch-size", student.batch_size, "User rows per step");
  finetune->add_option("--alignment-batch-size", student.alignment_batch_size,
                       "Alignment rows per step for the KL term");
  finetune->add_option("--learning-rate", student.optimizer.learning_rate, "Peak learning rate");
  finetune->add_option("--warmup-steps", student.optimizer.warmup_steps, "Linear warm-up steps");
  finetune->add_option("--alpha", student.distill_weight, "Weight of the KL term");
  finetune->add_option("--temperature", student.temperature, "Distillation temperature T");
  finetune->add_option("--lora-r", student.lora.r, "LoRA rank");
  finetune->add_option("--lora-alpha", student.lora.lora_alpha, "LoRA alpha");
  finetune->add_option("--seed", student.seed, "Seed of the adapter and data order");
  finetune->add_option("--threshold", flags->options.threshold,
                       "Override the teacher's filter threshold");
  finetune->add_option("--soft-label-cache", flags->options.soft_label_cache_dir,
                       "Folder of cached teacher soft labels");
  finetune->add_option("--top-k", flags->options.soft_labels.top_k,
                       "Teacher log-probabilities kept per token; 0 keeps all");
  AddEvalFlags(finetune, eval_flags.get(), /*for_finetune=*/true);
  finetune->callback([flags, eval_flags, exit_code] {
    *exit_code = RunFinetune(*flags, *eval_flags);
  });

  CLI::App* eval_group = app.add_subcommand("eval", "Evaluate a model or student adapter offline");
  eval_group->require_subcommand(1);
  for (const char* name : {"harmful", "accuracy"}) {
    auto eval_command_flags = std::make_shared<EvalCommandFlags>();
    CLI::App* command = eval_group->add_subcommand(
        name, std::string(name) == "harmful" ? "Harmful score of greedy answers"
                                             : "Task accuracy of greedy answers");
    AddCommonFlags(command, &eval_command_flags->common);
    command->add_option("--adapter", eval_command_flags->adapter,
                        "Student folder from `reftune finetune --output`; empty uses the base");
    AddEvalFlags(command, &eval_command_flags->eval, /*for_finetune=*/false);
    const std::string label = std::string("eval ") + name;
    command->callback([eval_command_flags, exit_code, label] {
      *exit_code = RunEval(*eval_command_flags, label);
    });
  }
}

}  // namespace

void AddMethodCommands(CLI::App& app, int* exit_code) {
  CLI::App* teacher = app.add_subcommand("teacher", "Ref-Teacher preparation offline");
  teacher->require_subcommand(1);
  auto teacher_flags = std::make_shared<TeacherFlags>();
  CLI::App* train = teacher->add_subcommand(
      "train", "Train a teacher on an alignment set and calibrate its layer and threshold");
  AddCommonFlags(train, &teacher_flags->common);
  method::TeacherTrainingOptions& training = teacher_flags->pipeline.training;
  train->add_option("--alignment", teacher_flags->alignment,
                    "Alignment JSONL with meta.harmful marks (reftune data build alignment)")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--output", teacher_flags->output, "Teacher folder to write")->required();
  train->add_option("--epochs", training.epochs, "Passes over the smaller alignment half");
  train->add_option("--batch-size", training.batch_size, "Rows per step, half harmful");
  train->add_option("--learning-rate", training.optimizer.learning_rate, "Peak learning rate");
  train->add_option("--warmup-steps", training.optimizer.warmup_steps, "Linear warm-up steps");
  train->add_option("--lambda", training.regularizer_weight, "Weight of the regulariser");
  train->add_option("--layer", training.layer, "Block whose feature the regulariser shapes");
  train->add_option("--refresh-every", training.refresh_every_steps,
                    "Recompute the refusal feature every this many steps");
  train->add_option("--lora-r", training.lora.r, "LoRA rank");
  train->add_option("--lora-alpha", training.lora.lora_alpha, "LoRA alpha");
  train->add_option("--seed", training.seed, "Seed of the adapter, data order and split");
  train->add_option("--heldout-fraction", teacher_flags->pipeline.heldout_fraction,
                    "Share of each side held out to calibrate layer and threshold");
  train->add_option("--fixed-threshold", teacher_flags->fixed_threshold,
                    "Use this threshold (e.g. 0.9) instead of the calibrated one");
  train->add_option("--filter-layer", teacher_flags->fixed_layer,
                    "Use this filter layer instead of the best-F1 one");
  train->callback([teacher_flags, exit_code] { *exit_code = RunTeacherTrain(*teacher_flags); });

  CLI::App* filter = app.add_subcommand("filter", "Score prompts with a teacher offline");
  filter->require_subcommand(1);
  auto filter_flags = std::make_shared<FilterFlags>();
  CLI::App* score = filter->add_subcommand(
      "score", "Cosine and decision per prompt; precision/recall/F1 when rows carry meta.harmful");
  AddCommonFlags(score, &filter_flags->common);
  score->add_option("--teacher", filter_flags->teacher, "Teacher folder")->required();
  score->add_option("--input", filter_flags->input, "Records JSONL")->required();
  score->add_option("--output", filter_flags->output,
                    "Write one {line, cosine, filtered} JSON line per prompt here");
  score->add_option("--threshold", filter_flags->threshold, "Override the teacher's threshold");
  score->callback(
      [filter_flags, exit_code] { *exit_code = RunFilterScore(*filter_flags, "filter score"); });

  AddFinetuneAndEvalCommands(app, exit_code);

  // `eval filter` is `filter score` on labelled prompts, under the eval group.
  CLI::App* eval_group = app.get_subcommand("eval");
  auto eval_filter_flags = std::make_shared<FilterFlags>();
  CLI::App* eval_filter = eval_group->add_subcommand(
      "filter", "Filter precision, recall, F1 and FPR on prompts with meta.harmful labels");
  AddCommonFlags(eval_filter, &eval_filter_flags->common);
  eval_filter->add_option("--teacher", eval_filter_flags->teacher, "Teacher folder")->required();
  eval_filter->add_option("--input", eval_filter_flags->input, "Labelled prompts JSONL")
      ->required();
  eval_filter->add_option("--threshold", eval_filter_flags->threshold,
                          "Override the teacher's threshold");
  eval_filter->callback([eval_filter_flags, exit_code] {
    *exit_code = RunFilterScore(*eval_filter_flags, "eval filter");
  });
}

}  // namespace reftune::cli
