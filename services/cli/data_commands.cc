// `reftune data ...`: builds reftune datasets from the public data sets and validates JSONL files
// offline, with the same validator the gateway runs on uploads.
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/data/alignment_set_builder.h"
#include "core/data/build_summary.h"
#include "core/data/evaluation_set_builders.h"
#include "core/data/jsonl.h"
#include "core/data/public_sources.h"
#include "core/data/streaming_validator.h"
#include "core/data/task_set_builder.h"
#include "services/cli/commands.h"

namespace reftune::cli {
namespace {

// Options shared by every `data build` subcommand.
struct BuildFlags {
  std::string data_dir;
  std::string out;
  uint64_t seed = 0;
};

void AddBuildFlags(CLI::App* command, BuildFlags* flags) {
  command->add_option("--data-dir", flags->data_dir,
                      "Folder with the public data sets (default: $REFTUNE_DATA_DIR, else "
                      "../shared/data relative to the current directory)");
  command->add_option("--out", flags->out, "JSONL file to write")->required();
  command->add_option("--seed", flags->seed, "Seed for sampling and order")
      ->capture_default_str();
}

int ReportFailure(const absl::Status& status) {
  std::cerr << "reftune data: " << status.message() << "\n";
  return kExitFailure;
}

// Writes `records` to `path` and prints the summary; returns the exit code.
int WriteAndSummarize(const std::string& path, const std::vector<data::Record>& records) {
  if (absl::Status status = data::WriteRecordsFile(path, records); !status.ok()) {
    return ReportFailure(status);
  }
  std::cout << data::FormatBuildSummary(path, records);
  return kExitOk;
}

using RecordBuilder =
    std::function<absl::StatusOr<std::vector<data::Record>>(const std::string& data_dir)>;

// Resolves the data directory, runs `build` on it and writes what it returns to flags.out.
int RunRecordBuild(const BuildFlags& flags, const RecordBuilder& build) {
  absl::StatusOr<std::string> dir = data::ResolveDataDir(flags.data_dir);
  if (!dir.ok()) return ReportFailure(dir.status());
  absl::StatusOr<std::vector<data::Record>> records = build(*dir);
  if (!records.ok()) return ReportFailure(records.status());
  return WriteAndSummarize(flags.out, *records);
}

std::string CalibrationPathFor(const std::string& out) {
  const std::string suffix = ".jsonl";
  if (out.size() > suffix.size() && out.compare(out.size() - suffix.size(), suffix.size(),
                                                suffix) == 0) {
    return out.substr(0, out.size() - suffix.size()) + ".calibration.jsonl";
  }
  return out + ".calibration.jsonl";
}

void AddAlignmentCommand(CLI::App* build, int* exit_code) {
  auto flags = std::make_shared<BuildFlags>();
  auto options = std::make_shared<data::AlignmentSetOptions>();
  auto calibration_out = std::make_shared<std::string>();
  CLI::App* command = build->add_subcommand(
      "alignment", "BeaverTails refusals plus Alpaca answers for teacher training, and a "
                   "held-out calibration split");
  AddBuildFlags(command, flags.get());
  command->add_option("--harmful", options->harmful_count, "Harmful training rows")
      ->capture_default_str();
  command->add_option("--harmless", options->harmless_count, "Harmless training rows")
      ->capture_default_str();
  command->add_option("--calibration-harmful", options->calibration_harmful_count,
                      "Harmful calibration prompts")
      ->capture_default_str();
  command->add_option("--calibration-harmless", options->calibration_harmless_count,
                      "Harmless calibration prompts")
      ->capture_default_str();
  command->add_option("--calibration-out", *calibration_out,
                      "Calibration JSONL (default: --out with .calibration.jsonl)");
  command->callback([flags, options, calibration_out, exit_code] {
    absl::StatusOr<std::string> dir = data::ResolveDataDir(flags->data_dir);
    if (!dir.ok()) {
      *exit_code = ReportFailure(dir.status());
      return;
    }
    options->seed = flags->seed;
    absl::StatusOr<data::AlignmentSet> set = data::BuildAlignmentSet(*dir, *options);
    if (!set.ok()) {
      *exit_code = ReportFailure(set.status());
      return;
    }
    const std::string calibration_path =
        calibration_out->empty() ? CalibrationPathFor(flags->out) : *calibration_out;
    *exit_code = WriteAndSummarize(flags->out, set->train);
    if (*exit_code == kExitOk) *exit_code = WriteAndSummarize(calibration_path, set->calibration);
  });
}

void AddTaskCommand(CLI::App* build, data::TaskKind task, const std::string& description,
                    int* exit_code) {
  auto flags = std::make_shared<BuildFlags>();
  auto options = std::make_shared<data::TaskSetOptions>();
  auto split = std::make_shared<std::string>("train");
  options->task = task;
  CLI::App* command = build->add_subcommand(std::string(data::TaskName(task)), description);
  AddBuildFlags(command, flags.get());
  command->add_option("--split", *split, "train or eval")
      ->check(CLI::IsMember({"train", "eval"}))
      ->capture_default_str();
  command->add_option("--size", options->size, "Rows to write, poison included; -1 for all")
      ->capture_default_str();
  command->add_option("--poison", options->poison_fraction,
                      "Share of rows replaced by BeaverTails harmful prompt/answer pairs, 0-1")
      ->capture_default_str();
  command->callback([flags, options, split, exit_code] {
    options->seed = flags->seed;
    options->split = *split == "eval" ? data::TaskSplit::kEval : data::TaskSplit::kTrain;
    *exit_code = RunRecordBuild(
        *flags, [&](const std::string& dir) { return data::BuildTaskSet(dir, *options); });
  });
}

void AddHarmfulEvalCommand(CLI::App* build, int* exit_code) {
  auto flags = std::make_shared<BuildFlags>();
  auto options = std::make_shared<data::HarmfulEvalOptions>();
  CLI::App* command = build->add_subcommand(
      "harmful-eval", "Harmful prompts for the harmful score: held-out BeaverTails, AdvBench, "
                      "MaliciousInstruct");
  AddBuildFlags(command, flags.get());
  command->add_option("--beavertails", options->beavertails_count, "BeaverTails prompts; -1 all")
      ->capture_default_str();
  command->add_option("--advbench", options->advbench_count, "AdvBench prompts; -1 all")
      ->capture_default_str();
  command->add_option("--malicious-instruct", options->malicious_instruct_count,
                      "MaliciousInstruct prompts; -1 all")
      ->capture_default_str();
  command->callback([flags, options, exit_code] {
    options->seed = flags->seed;
    *exit_code = RunRecordBuild(
        *flags, [&](const std::string& dir) { return data::BuildHarmfulEvalSet(dir, *options); });
  });
}

void AddFilterEvalCommand(CLI::App* build, int* exit_code) {
  auto flags = std::make_shared<BuildFlags>();
  auto options = std::make_shared<data::FilterEvalOptions>();
  CLI::App* command = build->add_subcommand(
      "filter-eval", "AdvBench (harmful) and Alpaca (harmless) prompts for filter quality");
  AddBuildFlags(command, flags.get());
  command->add_option("--harmful", options->harmful_count, "AdvBench prompts; -1 all")
      ->capture_default_str();
  command->add_option("--harmless", options->harmless_count, "Alpaca prompts; -1 all")
      ->capture_default_str();
  command->callback([flags, options, exit_code] {
    options->seed = flags->seed;
    *exit_code = RunRecordBuild(
        *flags, [&](const std::string& dir) { return data::BuildFilterEvalSet(dir, *options); });
  });
}

void AddValidateCommand(CLI::App* data_command, int* exit_code) {
  auto path = std::make_shared<std::string>();
  auto options = std::make_shared<data::ValidationOptions>();
  auto json = std::make_shared<bool>(false);
  auto prompt_only = std::make_shared<bool>(false);
  CLI::App* command = data_command->add_subcommand(
      "validate", "Check a JSONL dataset with the upload rules; exit 1 if any record is invalid");
  command->add_option("file", *path, "JSONL file")->required();
  command->add_option("--max-errors", options->max_reported_errors, "Problems listed")
      ->capture_default_str();
  command->add_flag("--prompt-only", *prompt_only, "Accept records without a response");
  command->add_flag("--json", *json, "Print the report as JSON");
  command->callback([path, options, json, prompt_only, exit_code] {
    absl::StatusOr<std::string> bytes = data::ReadFileToString(*path);
    if (!bytes.ok()) {
      *exit_code = ReportFailure(bytes.status());
      return;
    }
    options->require_response = !*prompt_only;
    const data::ValidationReport report = data::ValidateDataset(*bytes, *options);
    if (*json) {
      std::cout << report.ToJson().dump(2) << "\n";
    } else {
      std::cout << report.valid_records << " of " << report.records << " records valid, "
                << report.error_count << " problems, " << report.warning_count
                << " warnings\n"
                << report.FormatErrors() << report.FormatWarnings();
    }
    *exit_code = report.ok() ? kExitOk : kExitFailure;
  });
}

}  // namespace

// Each subcommand's option values are held by shared_ptr captured in its callback, so they live
// as long as the app that binds to them.
void AddDataCommands(CLI::App& app, int* exit_code) {
  CLI::App* data_command = app.add_subcommand("data", "Build and validate datasets offline");
  data_command->require_subcommand(1);
  CLI::App* build = data_command->add_subcommand(
      "build", "Write a reftune JSONL dataset built from the public data sets");
  build->require_subcommand(1);
  AddAlignmentCommand(build, exit_code);
  AddTaskCommand(build, data::TaskKind::kSst2, "SST-2 sentiment (train.tsv / GLUE dev)",
                 exit_code);
  AddTaskCommand(build, data::TaskKind::kAgNews, "AG News topics (disjoint cuts of test.csv)",
                 exit_code);
  AddTaskCommand(build, data::TaskKind::kGsm8k, "GSM8K math (train.jsonl / test.jsonl)",
                 exit_code);
  AddHarmfulEvalCommand(build, exit_code);
  AddFilterEvalCommand(build, exit_code);
  AddValidateCommand(data_command, exit_code);
}

}  // namespace reftune::cli
