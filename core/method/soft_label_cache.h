// Teacher soft labels on the alignment answers, computed once per (teacher, alignment set,
// settings) and cached on disk.
//
// Storage choice: per answer token the teacher's top-k log-probabilities (float32) and their
// token ids (int32), k = 64 by default; the mass outside the top k is one "rest" bucket (see
// SoftLabels). For stories260K (vocab 512) and 1,000 alignment answers of up to 65 tokens this is
// about 33 MB, against 133 MB for the full distribution; top_k = 0 stores the full distribution.
#ifndef REFTUNE_CORE_METHOD_SOFT_LABEL_CACHE_H_
#define REFTUNE_CORE_METHOD_SOFT_LABEL_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/method/losses.h"
#include "core/method/token_batch.h"
#include "core/model/transformer.h"

namespace reftune::method {

struct SoftLabelOptions {
  // Teacher adapter installed in the model.
  std::string adapter = "teacher";
  // T of softmax(z / T).
  double temperature = 1.0;
  // Kept log-probabilities per token; <= 0 keeps the whole vocabulary.
  int64_t top_k = 64;
  // Examples per teacher forward pass.
  int64_t batch_size = 32;
};

// Soft labels of every answer token of a list of examples.
struct SoftLabelSet {
  // All examples' tokens, example after example.
  SoftLabels labels;
  // offsets[i]..offsets[i + 1] are example i's rows; size examples + 1.
  std::vector<int64_t> offsets;

  // The rows of examples[indices[0]], examples[indices[1]], ... in that order, matching the
  // row-major answer positions of MakeTokenBatch(examples, indices).
  SoftLabels ForExamples(const std::vector<int64_t>& indices) const;
};

// Runs the teacher over `examples` without gradients.
absl::StatusOr<SoftLabelSet> ComputeSoftLabels(model::Transformer& model,
                                               const std::vector<EncodedExample>& examples,
                                               const SoftLabelOptions& options);

// Hex SHA-256 of the teacher fingerprint, the encoded examples and temperature and top_k.
std::string SoftLabelCacheKey(const std::string& teacher_fingerprint,
                              const std::vector<EncodedExample>& examples,
                              const SoftLabelOptions& options);

// A folder of <key>.softlabels files. Safe for several processes when each writes through
// Store (a temporary file renamed into place).
class SoftLabelCache {
 public:
  explicit SoftLabelCache(std::string folder) : folder_(std::move(folder)) {}

  // nullopt on a miss; INVALID_ARGUMENT when the file exists but cannot be read.
  absl::StatusOr<std::optional<SoftLabelSet>> Lookup(const std::string& key) const;
  absl::Status Store(const std::string& key, const SoftLabelSet& labels) const;

  // Looks up `key`, or computes, stores and returns the labels. `hit` (optional) reports which.
  absl::StatusOr<SoftLabelSet> GetOrCompute(const std::string& key, model::Transformer& model,
                                            const std::vector<EncodedExample>& examples,
                                            const SoftLabelOptions& options, bool* hit) const;

  std::string PathFor(const std::string& key) const;

 private:
  std::string folder_;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_SOFT_LABEL_CACHE_H_
