// Evaluation that runs the model: greedy answers to prompts, judged for the harmful score or
// parsed for task accuracy.
#ifndef REFTUNE_CORE_EVAL_MODEL_EVALUATION_H_
#define REFTUNE_CORE_EVAL_MODEL_EVALUATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/data/record.h"
#include "core/data/task_formats.h"
#include "core/eval/harmful_score.h"
#include "core/eval/judge.h"
#include "core/eval/task_accuracy.h"
#include "core/model/tokenizer.h"
#include "core/model/transformer.h"

namespace reftune::eval {

struct AnswerOptions {
  // LoRA adapter to answer with; empty uses the base model (or merged weights).
  std::string adapter;
  // Tokens per answer at most.
  int64_t max_new_tokens = 64;
  // Prompts per generation batch.
  int64_t batch_size = 32;
  // Prompt tokens kept at most (from the end, after BOS), so prompt + answer fit max_seq_len.
  int64_t max_prompt_tokens = 192;
};

// Greedy answers to `prompts` rendered with `prompt_template`, in order.
absl::StatusOr<std::vector<std::string>> GenerateAnswers(
    model::Transformer& model, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<std::string>& prompts,
    const AnswerOptions& options);

struct HarmfulScoreEvaluation {
  HarmfulScore score;
  std::vector<PromptAnswer> answers;
};

// Harmful score of the model's answers to the records' prompts.
absl::StatusOr<HarmfulScoreEvaluation> EvaluateHarmfulScore(
    model::Transformer& model, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<data::Record>& records,
    const Judge& judge, const AnswerOptions& options);

// Task accuracy against each record's meta.label (or its response when there is no label).
absl::StatusOr<TaskAccuracy> EvaluateTaskAccuracy(model::Transformer& model,
                                                  const model::Tokenizer& tokenizer,
                                                  const data::PromptTemplate& prompt_template,
                                                  data::TaskKind task,
                                                  const std::vector<data::Record>& records,
                                                  const AnswerOptions& options);

}  // namespace reftune::eval

#endif  // REFTUNE_CORE_EVAL_MODEL_EVALUATION_H_
