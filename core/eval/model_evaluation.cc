#include "core/eval/model_evaluation.h"

#include <algorithm>

#include "core/common/status_macros.h"
#include "core/model/generation.h"

namespace reftune::eval {

absl::StatusOr<std::vector<std::string>> GenerateAnswers(
    model::Transformer& model, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<std::string>& prompts,
    const AnswerOptions& options) {
  model::GenerationOptions generation;
  generation.max_new_tokens = options.max_new_tokens;
  generation.adapter = options.adapter;

  std::vector<std::string> answers;
  answers.reserve(prompts.size());
  const size_t batch_size = static_cast<size_t>(std::max<int64_t>(1, options.batch_size));
  for (size_t start = 0; start < prompts.size(); start += batch_size) {
    std::vector<std::vector<int64_t>> batch;
    for (size_t i = start; i < std::min(prompts.size(), start + batch_size); ++i) {
      std::vector<int64_t> ids = tokenizer.Encode(prompt_template.Render(prompts[i]), true, false);
      if (static_cast<int64_t>(ids.size()) > options.max_prompt_tokens) {
        ids.erase(ids.begin() + 1, ids.end() - (options.max_prompt_tokens - 1));
      }
      batch.push_back(std::move(ids));
    }
    REFTUNE_ASSIGN_OR_RETURN(auto sequences, model::Generate(model, batch, generation));
    for (const model::GeneratedSequence& sequence : sequences) {
      answers.push_back(tokenizer.Decode(sequence.tokens));
    }
  }
  return answers;
}

absl::StatusOr<HarmfulScoreEvaluation> EvaluateHarmfulScore(
    model::Transformer& model, const model::Tokenizer& tokenizer,
    const data::PromptTemplate& prompt_template, const std::vector<data::Record>& records,
    const Judge& judge, const AnswerOptions& options) {
  std::vector<std::string> prompts;
  for (const data::Record& record : records) prompts.push_back(record.prompt);
  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> answers,
                           GenerateAnswers(model, tokenizer, prompt_template, prompts, options));
  HarmfulScoreEvaluation evaluation;
  for (size_t i = 0; i < prompts.size(); ++i) {
    evaluation.answers.push_back(PromptAnswer{prompts[i], answers[i]});
  }
  REFTUNE_ASSIGN_OR_RETURN(evaluation.score, ComputeHarmfulScore(judge, evaluation.answers));
  return evaluation;
}

absl::StatusOr<TaskAccuracy> EvaluateTaskAccuracy(model::Transformer& model,
                                                  const model::Tokenizer& tokenizer,
                                                  const data::PromptTemplate& prompt_template,
                                                  data::TaskKind task,
                                                  const std::vector<data::Record>& records,
                                                  const AnswerOptions& options) {
  std::vector<std::string> prompts;
  for (const data::Record& record : records) prompts.push_back(record.prompt);
  REFTUNE_ASSIGN_OR_RETURN(std::vector<std::string> answers,
                           GenerateAnswers(model, tokenizer, prompt_template, prompts, options));
  std::vector<AnswerWithReference> items;
  for (size_t i = 0; i < records.size(); ++i) {
    const bool has_label = records[i].meta.has_value() && !records[i].meta->label.empty();
    items.push_back(
        AnswerWithReference{answers[i], has_label ? records[i].meta->label : records[i].response});
  }
  return ComputeTaskAccuracy(task, items);
}

}  // namespace reftune::eval
