// Whole-file reads and writes for the model file formats.
#ifndef REFTUNE_CORE_MODEL_FILE_BYTES_H_
#define REFTUNE_CORE_MODEL_FILE_BYTES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reftune::model {

// Reads all of `path`. `what` describes the file in error messages ("safetensors file").
// Returns NOT_FOUND when the file cannot be opened.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path, const std::string& what);

// Replaces `path` with `bytes`. Returns INTERNAL when the file cannot be written.
absl::Status WriteFileBytes(const std::string& path, std::string_view bytes,
                            const std::string& what);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_FILE_BYTES_H_
