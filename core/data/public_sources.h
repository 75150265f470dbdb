// Readers for the public data sets that the dataset builders draw from. Each takes the data
// directory (see ResolveDataDir) and reads its file in place.
#ifndef REFTUNE_CORE_DATA_PUBLIC_SOURCES_H_
#define REFTUNE_CORE_DATA_PUBLIC_SOURCES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/record.h"

namespace reftune::data {

// Returns `flag` when it is not empty, else $REFTUNE_DATA_DIR when set, else "../shared/data"
// relative to the current directory. NOT_FOUND when the chosen folder does not exist.
absl::StatusOr<std::string> ResolveDataDir(const std::string& flag);

// One BeaverTails row: a harmful prompt with a refusal ("safe") and a harmful ("unsafe") answer.
struct BeaverTailsRow {
  std::string prompt;
  std::string safe;
  std::string unsafe;
};

// Share of BeaverTails that one kind of builder may draw from. The pool is a fixed function of the
// prompt text, so sets built with different seeds never share a prompt across pools.
enum class BeaverTailsPool {
  // Alignment training and calibration: hash buckets 0-59 of 100.
  kAlignment,
  // Poison rows of user task sets: buckets 60-79.
  kPoison,
  // Harmful evaluation prompts: buckets 80-99.
  kEvaluation,
};

BeaverTailsPool PoolOfBeaverTailsPrompt(const std::string& prompt);

// Reads beavertails_spard/beaverTails_train.jsonl, keeping the first row of each prompt (compared
// after NormalizeForMatch).
absl::StatusOr<std::vector<BeaverTailsRow>> ReadBeaverTails(const std::string& data_dir);

// Reads the rows of one pool.
absl::StatusOr<std::vector<BeaverTailsRow>> ReadBeaverTailsPool(const std::string& data_dir,
                                                                BeaverTailsPool pool);

// A text with its class label as written in the source file.
struct LabelledText {
  std::string text;
  int label = 0;
};

// Reads an SST-2 TSV file ("sst2/train.tsv" or "sst2/test.tsv"; header sentence<TAB>label,
// label 0 negative and 1 positive). Trailing spaces of sentences are trimmed.
absl::StatusOr<std::vector<LabelledText>> ReadSst2(const std::string& data_dir,
                                                   const std::string& file);

// Reads ag_news/test.csv (header label,title,description; label 1-4). The text is
// "<title>. <description>" with the backslashes that stand for line breaks in this corpus turned
// into spaces and runs of spaces collapsed.
absl::StatusOr<std::vector<LabelledText>> ReadAgNews(const std::string& data_dir);

struct QuestionAnswer {
  std::string question;
  std::string answer;
};

// Reads a GSM8K JSONL file ("gsm8k/train.jsonl" or "gsm8k/test.jsonl").
absl::StatusOr<std::vector<QuestionAnswer>> ReadGsm8k(const std::string& data_dir,
                                                      const std::string& file);

// Reads alpaca_en_demo/alpaca_en_demo.json as records with the Alpaca prompt rule of
// ParseRecordObject (instruction, then a blank line and the input when present).
absl::StatusOr<std::vector<Record>> ReadAlpacaDemo(const std::string& data_dir);

// Reads the "instruction" of each entry of a refusal_direction_prompts JSON file.
absl::StatusOr<std::vector<std::string>> ReadInstructionList(const std::string& data_dir,
                                                             const std::string& file);

// Reads the harmful instructions of advbench/harmful_behaviors.csv. This copy's header reads
// "target,goal" while the first column contains the instructions, so the column is chosen by
// content: the one in which fewer values start with "Sure, here".
absl::StatusOr<std::vector<std::string>> ReadAdvBench(const std::string& data_dir);

// Reads malicious_instruct/malicious_instruct.txt, one prompt per non-blank line.
absl::StatusOr<std::vector<std::string>> ReadMaliciousInstruct(const std::string& data_dir);

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_PUBLIC_SOURCES_H_
