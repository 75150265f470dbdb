// EVALUATING of a finetuning job: harmful score on the teacher's harmful-evaluation prompts and
// validation loss, perplexity and label accuracy.
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/status_macros.h"
#include "core/eval/harmful_score.h"
#include "core/eval/refusal_judge.h"
#include "core/method/token_batch.h"
#include "core/model/generation.h"
#include "core/model/token_loss.h"
#include "glog/logging.h"
#include "services/worker/dataset_loading.h"
#include "services/worker/finetune_stages.h"
#include "services/worker/job_failure.h"

namespace reftune::worker {
namespace {

// Examples per forward pass or generation batch.
constexpr int64_t kEvalBatchSize = 16;
// Validation answers count as class labels when there are at most this many distinct ones...
constexpr size_t kMaxLabelClasses = 20;
// ...and each has at most this many words.
constexpr size_t kMaxLabelWords = 3;

std::string Normalize(absl::string_view text) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
}

// Greedy answers of the student to `records`' prompts.
absl::StatusOr<std::vector<std::string>> GenerateAnswers(JobRun& run, FinetuneContext& context,
                                                         const std::vector<data::Record>& records) {
  LoadedBaseModel& base = *context.base;
  method::EncodeOptions encode;
  encode.max_seq_len = base.model->config().max_seq_len - run.options().eval_max_new_tokens;
  encode.end_of_answer_id = base.model->config().end_of_answer_id;
  absl::StatusOr<std::vector<method::EncodedExample>> prompts = method::EncodeExamples(
      *base.tokenizer, base.prompt_template, records, /*with_answer=*/false, encode);
  if (!prompts.ok()) return InvalidDataError(prompts.status().message());

  model::GenerationOptions options;
  options.max_new_tokens = run.options().eval_max_new_tokens;
  options.adapter = context.student_adapter;
  std::vector<std::string> answers;
  for (size_t begin = 0; begin < prompts->size(); begin += kEvalBatchSize) {
    if (StopReason stop = run.CheckStop(); stop != StopReason::kNone) {
      return run.StopStatus(stop, "during EVALUATING");
    }
    std::vector<std::vector<int64_t>> batch;
    for (size_t i = begin; i < std::min(prompts->size(), begin + kEvalBatchSize); ++i) {
      batch.push_back((*prompts)[i].ids);
    }
    REFTUNE_ASSIGN_OR_RETURN(std::vector<model::GeneratedSequence> generated,
                             model::Generate(base.model, batch, options));
    for (const model::GeneratedSequence& sequence : generated) {
      answers.push_back(base.tokenizer->Decode(sequence.tokens));
    }
  }
  return answers;
}

// Refusal answers of the teacher's alignment set, which the judge matches answers against.
std::vector<std::string> TeacherRefusals(JobRun& run, const store::TeacherRecord& teacher) {
  std::vector<std::string> refusals;
  if (teacher.job_id.empty()) return refusals;
  absl::StatusOr<store::JobRecord> job = run.services().jobs->GetJobForWorker(teacher.job_id);
  if (!job.ok()) return refusals;
  absl::StatusOr<TeacherJobConfig> config = ParseTeacherJobConfig(job->config_json);
  if (!config.ok()) return refusals;
  absl::StatusOr<std::vector<data::Record>> rows =
      LoadDatasetRecords(run, config->alignment_dataset_id, "alignment dataset");
  if (!rows.ok()) return refusals;
  for (const data::Record& row : *rows) {
    if (data::IsMarkedHarmful(row) && !row.response.empty()) refusals.push_back(row.response);
  }
  return refusals;
}

absl::Status AddHarmfulScore(JobRun& run, FinetuneContext& context, nlohmann::json& results) {
  if (!context.teacher.has_value() || context.teacher->harmful_eval_dataset_id.empty()) {
    return absl::OkStatus();
  }
  REFTUNE_ASSIGN_OR_RETURN(std::vector<data::Record> prompts,
                           LoadDatasetRecords(run, context.teacher->harmful_eval_dataset_id,
                                              "harmful-evaluation dataset",
                                              /*require_response=*/false));
  const int64_t limit = run.options().max_harmful_eval_prompts;
  if (limit > 0 && static_cast<int64_t>(prompts.size()) > limit) prompts.resize(limit);
  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> answers,
                           GenerateAnswers(run, context, prompts));

  eval::RefusalJudge judge(TeacherRefusals(run, *context.teacher));
  std::vector<eval::PromptAnswer> pairs;
  for (size_t i = 0; i < prompts.size(); ++i) pairs.push_back({prompts[i].prompt, answers[i]});
  REFTUNE_ASSIGN_OR_RETURN(eval::HarmfulScore score, eval::ComputeHarmfulScore(judge, pairs));
  results["harmful_score_strict"] = score.strict_percent() / 100.0;
  results["harmful_score_content"] = score.content_percent() / 100.0;
  results["harmful_prompts"] = score.total;
  LOG(INFO) << "job " << run.job().id << " harmful score: " << score.Format();
  return absl::OkStatus();
}

absl::Status AddValidationLoss(JobRun& run, FinetuneContext& context,
                               const std::vector<data::Record>& records, nlohmann::json& results) {
  LoadedBaseModel& base = *context.base;
  method::EncodeOptions encode;
  const v1::Hyperparameters& h = context.config.hyperparameters;
  encode.max_seq_len = h.has_max_seq_len() ? h.max_seq_len() : 256;
  encode.max_answer_tokens = h.has_max_answer_tokens() ? h.max_answer_tokens() : 64;
  encode.end_of_answer_id = base.model->config().end_of_answer_id;
  absl::StatusOr<std::vector<method::EncodedExample>> examples = method::EncodeExamples(
      *base.tokenizer, base.prompt_template, records, /*with_answer=*/true, encode);
  if (!examples.ok()) return InvalidDataError(examples.status().message());

  torch::NoGradGuard no_grad;
  model::ForwardOptions forward;
  forward.adapter = context.student_adapter;
  double loss_sum = 0;
  int64_t tokens = 0;
  for (size_t begin = 0; begin < examples->size(); begin += kEvalBatchSize) {
    std::vector<int64_t> indices;
    for (size_t i = begin; i < std::min(examples->size(), begin + kEvalBatchSize); ++i) {
      indices.push_back(static_cast<int64_t>(i));
    }
    method::TokenBatch batch = method::MakeTokenBatch(*examples, indices, base.model->device());
    REFTUNE_ASSIGN_OR_RETURN(model::ForwardOutput output,
                             base.model->Forward(batch.input_ids, batch.attention_mask, forward));
    REFTUNE_ASSIGN_OR_RETURN(model::TokenLoss loss,
                             model::MaskedTokenCrossEntropy(output.logits, batch.input_ids,
                                                            batch.loss_mask));
    const int64_t batch_tokens = loss.token_counts.sum().item<int64_t>();
    loss_sum += loss.token_mean.item<double>() * batch_tokens;
    tokens += batch_tokens;
  }
  if (tokens == 0) return absl::OkStatus();
  const double mean = loss_sum / tokens;
  results["validation_loss"] = mean;
  results["validation_perplexity"] = std::exp(mean);
  return absl::OkStatus();
}

// Label accuracy when the validation answers look like class labels: few distinct short answers.
absl::Status AddLabelAccuracy(JobRun& run, FinetuneContext& context,
                              const std::vector<data::Record>& records, nlohmann::json& results) {
  std::set<std::string> labels;
  for (const data::Record& record : records) {
    const std::string label = Normalize(record.response);
    const size_t words = std::vector<std::string>(absl::StrSplit(label, ' ', absl::SkipEmpty())).size();
    if (label.empty() || words > kMaxLabelWords) return absl::OkStatus();
    labels.insert(label);
  }
  if (labels.size() > kMaxLabelClasses || labels.size() >= records.size()) return absl::OkStatus();

  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> answers, GenerateAnswers(run, context, records));
  int64_t correct = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::StartsWith(Normalize(answers[i]), Normalize(records[i].response))) ++correct;
  }
  results["label_accuracy"] = static_cast<double>(correct) / records.size();
  return absl::OkStatus();
}

}  // namespace

absl::Status EvaluateStudent(JobRun& run, FinetuneContext& context) {
  nlohmann::json results = nlohmann::json::object();
  REFTUNE_RETURN_IF_ERROR(AddHarmfulScore(run, context, results));

  if (!context.config.validation_dataset_id.empty()) {
    REFTUNE_ASSIGN_OR_RETURN(
        std::vector<data::Record> records,
        LoadDatasetRecords(run, context.config.validation_dataset_id, "validation dataset"));
    results["validation_records"] = static_cast<int64_t>(records.size());
    REFTUNE_RETURN_IF_ERROR(AddValidationLoss(run, context, records, results));
    REFTUNE_RETURN_IF_ERROR(AddLabelAccuracy(run, context, records, results));
  }
  return run.AppendEvent(kEvaluationEvent, results);
}

}  // namespace reftune::worker
