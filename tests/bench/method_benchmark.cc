// Method benchmark: student finetuning step tokens/s with and without the KL term (cached teacher
// soft labels), and filter prompts/s with early exit at the teacher layer against full depth.
// Prints a table; run by hand:
//   build/tests/bench/method_benchmark --data-dir ../shared/data --threads 2
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "core/data/jsonl.h"
#include "core/data/prompt_template.h"
#include "core/method/refusal_feature.h"
#include "core/method/soft_label_cache.h"
#include "core/method/student_trainer.h"
#include "core/model/checkpoint.h"
#include "core/model/torch_threads.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Student steps per second in tokens/s, with or without the KL term.
double StudentTokensPerSecond(const reftune::model::Checkpoint& checkpoint,
                              const std::vector<reftune::method::EncodedExample>& user,
                              const std::vector<reftune::method::EncodedExample>& alignment,
                              bool distill, int64_t steps) {
  auto model = reftune::model::CreateTransformer(checkpoint, torch::kCPU);
  if (!model.ok()) return 0.0;
  std::shared_ptr<const reftune::method::SoftLabelSet> labels;
  if (distill) {
    // The base model plays the teacher here, because the step cost does not depend on the weights.
    auto computed = reftune::method::ComputeSoftLabels(
        *model, alignment, reftune::method::SoftLabelOptions{.adapter = ""});
    if (!computed.ok()) return 0.0;
    labels = std::make_shared<const reftune::method::SoftLabelSet>(*std::move(computed));
  }
  reftune::method::StudentTrainingOptions options;
  options.epochs = 1000;
  options.log_every_steps = 0;
  auto trainer = reftune::method::StudentTrainer::Create(*model, user, {}, alignment, labels,
                                                         options);
  if (!trainer.ok()) {
    std::cerr << trainer.status() << "\n";
    return 0.0;
  }
  double tokens_per_second = 0.0;
  int64_t seen = 0;
  const absl::Status status =
      (*trainer)->Run([&](const reftune::method::TrainingProgress& progress) {
        // The first 2 steps warm up allocations and are left out.
        if (progress.step > 2) {
          tokens_per_second += progress.tokens_per_second;
          ++seen;
        }
        return progress.step >= steps + 2 ? reftune::method::TrainingControl::kStop
                                          : reftune::method::TrainingControl::kContinue;
      });
  (void)status;
  return seen > 0 ? tokens_per_second / seen : 0.0;
}

double FilterPromptsPerSecond(reftune::model::Transformer& model,
                              const std::vector<reftune::method::EncodedExample>& prompts,
                              int64_t layer) {
  reftune::method::FeatureOptions options;
  options.layers = {layer};
  auto start = Clock::now();
  auto features = reftune::method::ComputePromptFeatures(model, prompts, options);
  if (!features.ok()) return 0.0;
  return prompts.size() / Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ref-Teacher method benchmark"};
  std::string data_dir = "../shared/data";
  std::string alignment_path;
  int threads = 2;
  int64_t steps = 20;
  app.add_option("--data-dir", data_dir, "Folder with stories260K/");
  app.add_option("--alignment", alignment_path,
                 "Alignment JSONL (reftune data build alignment); rows serve as user and "
                 "alignment data")
      ->required();
  app.add_option("--threads", threads, "LibTorch threads");
  app.add_option("--steps", steps, "Timed student steps per row");
  CLI11_PARSE(app, argc, argv);
  reftune::model::ConfigureTorchThreads(threads);

  auto checkpoint = reftune::model::LoadLlama2cCheckpoint(
      data_dir + "/stories260K/stories260K.bin", data_dir + "/stories260K/tok512.bin");
  auto records = reftune::data::ReadRecordsFile(alignment_path);
  if (!checkpoint.ok() || !records.ok()) {
    std::cerr << "loading failed: " << checkpoint.status() << " " << records.status() << "\n";
    return 1;
  }
  reftune::method::EncodeOptions encode;
  encode.end_of_answer_id = checkpoint->config.end_of_answer_id;
  auto examples = reftune::method::EncodeExamples(*checkpoint->tokenizer,
                                                  reftune::data::PromptTemplate::Short(),
                                                  *records, true, encode);
  auto prompts = reftune::method::EncodeExamples(*checkpoint->tokenizer,
                                                 reftune::data::PromptTemplate::Short(),
                                                 *records, false, encode);
  if (!examples.ok() || !prompts.ok()) return 1;

  const double plain = StudentTokensPerSecond(*checkpoint, *examples, *examples, false, steps);
  const double with_kl = StudentTokensPerSecond(*checkpoint, *examples, *examples, true, steps);
  auto model = reftune::model::CreateTransformer(*checkpoint, torch::kCPU);
  if (!model.ok()) return 1;
  const int64_t last = checkpoint->config.n_layers - 1;
  FilterPromptsPerSecond(*model, *prompts, last);  // warm-up
  const double early = FilterPromptsPerSecond(*model, *prompts, 3);
  const double full = FilterPromptsPerSecond(*model, *prompts, last);

  std::printf("| measurement | value |\n|---|---|\n");
  std::printf("| student step, CE only (tokens/s) | %.0f |\n", plain);
  std::printf("| student step, CE + KL, cached soft labels (tokens/s, alignment tokens included) "
              "| %.0f |\n", with_kl);
  std::printf("| filter, exit after block 3 (prompts/s, %zu prompts) | %.0f |\n",
              prompts->size(), early);
  std::printf("| filter, full depth (prompts/s) | %.0f |\n", full);
  return 0;
}
