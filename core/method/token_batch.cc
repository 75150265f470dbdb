#include "core/method/token_batch.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reftune::method {

absl::StatusOr<EncodedExample> EncodeExample(const model::Tokenizer& tokenizer,
                                             const data::PromptTemplate& prompt_template,
                                             const data::Record& record, bool with_answer,
                                             const EncodeOptions& options) {
  std::vector<int64_t> prompt_ids =
      tokenizer.Encode(prompt_template.Render(record.prompt), /*add_bos=*/true, /*add_eos=*/false);
  std::vector<int64_t> answer_ids;
  if (with_answer) {
    answer_ids = tokenizer.Encode(record.response, /*add_bos=*/false, /*add_eos=*/false);
    if (static_cast<int64_t>(answer_ids.size()) > options.max_answer_tokens) {
      answer_ids.resize(options.max_answer_tokens);
    }
    if (options.end_of_answer_id >= 0) answer_ids.push_back(options.end_of_answer_id);
  }

  // Keep BOS and the end of the prompt, where the template's response header sits.
  const int64_t prompt_room = options.max_seq_len - static_cast<int64_t>(answer_ids.size());
  if (prompt_room < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record at line ", record.line, ": max_seq_len ", options.max_seq_len,
        " leaves no room for the prompt after ", answer_ids.size(),
        " answer tokens; raise max_seq_len or lower max_answer_tokens"));
  }
  if (static_cast<int64_t>(prompt_ids.size()) > prompt_room) {
    const int64_t drop = static_cast<int64_t>(prompt_ids.size()) - prompt_room;
    prompt_ids.erase(prompt_ids.begin() + 1, prompt_ids.begin() + 1 + drop);
  }

  EncodedExample example;
  example.prompt_length = static_cast<int64_t>(prompt_ids.size());
  example.ids = std::move(prompt_ids);
  example.ids.insert(example.ids.end(), answer_ids.begin(), answer_ids.end());
  return example;
}

absl::StatusOr<std::vector<EncodedExample>> EncodeExamples(
    const model::Tokenizer& tokenizer, const data::PromptTemplate& prompt_template,
    const std::vector<data::Record>& records, bool with_answer, const EncodeOptions& options) {
  std::vector<EncodedExample> examples;
  examples.reserve(records.size());
  for (const data::Record& record : records) {
    absl::StatusOr<EncodedExample> example =
        EncodeExample(tokenizer, prompt_template, record, with_answer, options);
    if (!example.ok()) return example.status();
    examples.push_back(*std::move(example));
  }
  return examples;
}

TokenBatch MakeTokenBatch(const std::vector<EncodedExample>& examples,
                          const std::vector<int64_t>& indices, torch::Device device) {
  const int64_t batch_size = static_cast<int64_t>(indices.size());
  int64_t seq_len = 1;
  for (int64_t index : indices) {
    seq_len = std::max<int64_t>(seq_len, static_cast<int64_t>(examples[index].ids.size()));
  }

  torch::Tensor input_ids = torch::zeros({batch_size, seq_len}, torch::kInt64);
  torch::Tensor attention_mask = torch::zeros({batch_size, seq_len}, torch::kInt64);
  torch::Tensor targets = torch::full({batch_size, seq_len}, kIgnoreTarget, torch::kInt64);
  torch::Tensor loss_mask = torch::zeros({batch_size, seq_len}, torch::kInt64);
  torch::Tensor last_prompt = torch::zeros({batch_size}, torch::kInt64);
  auto ids_view = input_ids.accessor<int64_t, 2>();
  auto mask_view = attention_mask.accessor<int64_t, 2>();
  auto target_view = targets.accessor<int64_t, 2>();
  auto loss_view = loss_mask.accessor<int64_t, 2>();
  auto last_view = last_prompt.accessor<int64_t, 1>();

  TokenBatch batch;
  for (int64_t row = 0; row < batch_size; ++row) {
    const EncodedExample& example = examples[indices[row]];
    const int64_t length = static_cast<int64_t>(example.ids.size());
    for (int64_t position = 0; position < length; ++position) {
      ids_view[row][position] = example.ids[position];
      mask_view[row][position] = 1;
      if (position >= example.prompt_length) loss_view[row][position] = 1;
      // Position p predicts token p + 1; only answer tokens are scored.
      if (position + 1 < length && position + 1 >= example.prompt_length) {
        target_view[row][position] = example.ids[position + 1];
      }
    }
    last_view[row] = example.prompt_length - 1;
    batch.token_count += length;
  }

  batch.input_ids = input_ids.to(device);
  batch.attention_mask = attention_mask.to(device);
  batch.targets = targets.to(device);
  batch.loss_mask = loss_mask.to(device);
  batch.last_prompt_positions = last_prompt.to(device);
  return batch;
}

torch::Tensor GatherLastPromptStates(const torch::Tensor& hidden, const TokenBatch& batch) {
  const torch::Tensor rows = torch::arange(hidden.size(0), batch.last_prompt_positions.options());
  return hidden.index({rows, batch.last_prompt_positions});
}

}  // namespace reftune::method
