#include "core/model/safetensors_torch.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace reftune::model {

torch::Tensor SafetensorToTorch(const SafetensorsFile& file, const SafetensorsTensorInfo& tensor,
                                bool keep_dtype) {
  const std::string_view raw = file.RawData(tensor);
  if (keep_dtype && tensor.dtype != SafetensorsDtype::kF32) {
    const auto scalar_type =
        tensor.dtype == SafetensorsDtype::kF16 ? torch::kHalf : torch::kBFloat16;
    torch::Tensor result = torch::empty(tensor.shape, torch::TensorOptions().dtype(scalar_type));
    std::memcpy(result.data_ptr(), raw.data(), raw.size());
    return result;
  }
  torch::Tensor result = torch::empty(tensor.shape, torch::TensorOptions().dtype(torch::kFloat));
  DecodeToFloat32(tensor.dtype, raw.data(), static_cast<size_t>(tensor.num_elements()),
                  result.data_ptr<float>());
  return result;
}

absl::StatusOr<std::map<std::string, torch::Tensor>> ReadTorchSafetensors(
    const std::string& path, bool keep_dtype) {
  REFTUNE_ASSIGN_OR_RETURN(const SafetensorsFile file, SafetensorsFile::Read(path));
  std::map<std::string, torch::Tensor> tensors;
  for (const SafetensorsTensorInfo& tensor : file.tensors()) {
    tensors[tensor.name] = SafetensorToTorch(file, tensor, keep_dtype);
  }
  return tensors;
}

absl::Status WriteTorchSafetensors(const std::string& path,
                                   const std::map<std::string, torch::Tensor>& tensors,
                                   SafetensorsDtype dtype,
                                   const std::map<std::string, std::string>& metadata) {
  // Encoded bytes must outlive the views handed to the writer.
  std::vector<std::string> encoded;
  encoded.reserve(tensors.size());
  std::vector<SafetensorsTensorView> views;
  views.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined() || !tensor.is_floating_point()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot write tensor ", name, " to safetensors file ", path,
          ": expected a floating-point tensor, got ",
          tensor.defined() ? std::string(c10::toString(tensor.scalar_type())) : "undefined"));
    }
    const torch::Tensor values =
        tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    encoded.push_back(EncodeFromFloat32(dtype, values.data_ptr<float>(),
                                        static_cast<size_t>(values.numel())));
    views.push_back({name, dtype, values.sizes().vec(), encoded.back()});
  }
  return WriteSafetensors(path, views, metadata);
}

}  // namespace reftune::model
