// The normalised training or evaluation record that every accepted input format turns into.
#ifndef REFTUNE_CORE_DATA_RECORD_H_
#define REFTUNE_CORE_DATA_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace reftune::data {

// Scoring annotations carried in a record's optional "meta" object. Training ignores them.
struct RecordMeta {
  // Public data set the record came from, for example "beavertails" or "sst2". Empty when unknown.
  std::string source;
  // True for a harmful prompt, false for a harmless one, unset when unknown.
  std::optional<bool> harmful;
  // True for a poison row mixed into a user task set, unset when unknown.
  std::optional<bool> poison;
  // Class label or reference answer, for example "positive" or "72". Empty when none.
  std::string label;

  bool operator==(const RecordMeta& other) const;
};

struct Record {
  // Prompt text before the prompt template is applied. A chat history is already rendered here.
  std::string prompt;
  // Answer text. Empty in prompt-only sets such as harmful evaluation prompts.
  std::string response;
  // 1-based line of the record in its JSONL file, 0 when the record was not read from a file.
  int64_t line = 0;
  std::optional<RecordMeta> meta;
};

// Serialises a record in the {"prompt", "response", "meta"} form. "response" is left out when
// empty and "meta" when unset; `line` is never written.
nlohmann::json RecordToJson(const Record& record);

// True when the record's meta marks it harmful.
bool IsMarkedHarmful(const Record& record);

// True when the record's meta marks it as a poison row.
bool IsMarkedPoison(const Record& record);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_RECORD_H_
