// The safetensors file format, without LibTorch: an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw little-endian tensor data.
// safetensors_torch.h converts to and from torch::Tensor.
#ifndef REFTUNE_CORE_MODEL_SAFETENSORS_H_
#define REFTUNE_CORE_MODEL_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reftune::model {

// Element types reftune reads and writes, spelled as in the safetensors header.
enum class SafetensorsDtype { kF32, kF16, kBF16 };

// "F32", "F16" or "BF16".
const char* SafetensorsDtypeName(SafetensorsDtype dtype);
size_t SafetensorsDtypeSize(SafetensorsDtype dtype);

// One tensor entry of a header. Offsets are relative to the start of the data section.
struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;
  size_t begin = 0;
  size_t end = 0;

  int64_t num_elements() const;
};

// A parsed safetensors file held in memory.
// NOTE: the whole file is read into memory; multi-gigabyte shards would be better memory-mapped.
class SafetensorsFile {
 public:
  // Reads and validates `path`.
  static absl::StatusOr<SafetensorsFile> Read(const std::string& path);

  // Validates the file contents `bytes`; `source` names the file in error messages. Checks the
  // header length against the size, the JSON, each dtype, each shape, and that each tensor's
  // byte range is inside the data section, matches dtype size x element count and overlaps no
  // other tensor. Errors are INVALID_ARGUMENT and name the file and the tensor.
  static absl::StatusOr<SafetensorsFile> Parse(std::string bytes, std::string source);

  const std::string& source() const { return source_; }
  // Tensors in header order (sorted by name, since the header is a JSON object).
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  // String pairs of the optional "__metadata__" header entry.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Returns the entry called `name`, or nullptr.
  const SafetensorsTensorInfo* Find(const std::string& name) const;

  // Returns the raw little-endian bytes of `tensor`, which must come from tensors().
  std::string_view RawData(const SafetensorsTensorInfo& tensor) const;

  // Returns the elements of the tensor called `name` converted to float32. NOT_FOUND names the
  // file and the tensor when it is missing.
  absl::StatusOr<std::vector<float>> ReadFloat32(const std::string& name) const;

 private:
  std::string source_;
  std::string bytes_;
  size_t data_start_ = 0;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Converts `count` elements of `dtype` stored little-endian at `data` to float32 into `out`.
void DecodeToFloat32(SafetensorsDtype dtype, const void* data, size_t count, float* out);

// Converts float32 values to little-endian bytes of `dtype`. F16 and BF16 round to nearest even;
// values beyond the F16 range become infinity.
std::string EncodeFromFloat32(SafetensorsDtype dtype, const float* values, size_t count);

// A tensor to write: raw little-endian bytes of `dtype` in row-major order.
struct SafetensorsTensorView {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;
  std::string_view data;
};

// Serialises tensors and optional metadata to the safetensors layout. The header is padded with
// spaces to a multiple of 8 bytes, so the data section starts aligned. Returns INVALID_ARGUMENT
// when a name repeats, is "__metadata__", or a tensor's byte count does not match its shape.
absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<SafetensorsTensorView>& tensors,
    const std::map<std::string, std::string>& metadata = {});

// Writes SerializeSafetensors(tensors, metadata) to `path`.
absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<SafetensorsTensorView>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_SAFETENSORS_H_
