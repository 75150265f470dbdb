// Conversions between safetensors files and torch::Tensor.
#ifndef REFTUNE_CORE_MODEL_SAFETENSORS_TORCH_H_
#define REFTUNE_CORE_MODEL_SAFETENSORS_TORCH_H_

#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/safetensors.h"

namespace reftune::model {

// Copies `tensor` of `file` into a new CPU tensor: float32, or with keep_dtype its stored dtype
// (at::kHalf for F16, at::kBFloat16 for BF16).
torch::Tensor SafetensorToTorch(const SafetensorsFile& file, const SafetensorsTensorInfo& tensor,
                                bool keep_dtype = false);

// Reads every tensor of the file at `path` (see SafetensorToTorch).
absl::StatusOr<std::map<std::string, torch::Tensor>> ReadTorchSafetensors(
    const std::string& path, bool keep_dtype = false);

// Writes `tensors` to `path` in `dtype`, converting from any floating-point dtype and device.
// Returns INVALID_ARGUMENT, naming the tensor, for a tensor that is undefined or not floating point.
absl::Status WriteTorchSafetensors(const std::string& path,
                                   const std::map<std::string, torch::Tensor>& tensors,
                                   SafetensorsDtype dtype = SafetensorsDtype::kF32,
                                   const std::map<std::string, std::string>& metadata = {});

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_SAFETENSORS_TORCH_H_
