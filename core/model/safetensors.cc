#include "core/model/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/model/file_bytes.h"
#include "nlohmann/json.hpp"

namespace reftune::model {
namespace {

constexpr size_t kHeaderLengthBytes = 8;
// A header larger than this is rejected before parsing, as the reference implementation does.
constexpr uint64_t kMaxHeaderBytes = 100 * 1024 * 1024;

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

uint32_t FloatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float BitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  const uint32_t exponent = (half >> 10) & 0x1F;
  const uint32_t mantissa = half & 0x3FF;
  if (exponent == 0) {
    // Zero or subnormal: mantissa x 2^-24.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1F) return BitsToFloat(sign | 0x7F800000 | (mantissa << 13));
  return BitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t FloatToHalf(float value) {
  const uint32_t bits = FloatBits(value);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t exponent = (bits >> 23) & 0xFF;
  uint32_t mantissa = bits & 0x7FFFFF;
  if (exponent == 0xFF) return static_cast<uint16_t>(sign | (mantissa ? 0x7E00 : 0x7C00));

  const int half_exponent = static_cast<int>(exponent) - 127 + 15;
  if (half_exponent >= 31) return static_cast<uint16_t>(sign | 0x7C00);
  if (half_exponent <= 0) {
    // Subnormal half: shift the mantissa, with its implicit bit, into 10 bits.
    if (half_exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    const int shift = 14 - half_exponent;
    uint32_t half = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }

  // A carry out of the mantissa correctly bumps the exponent, up to infinity.
  uint32_t half = sign | (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1FFF;
  if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(half);
}

uint16_t FloatToBfloat16(float value) {
  const uint32_t bits = FloatBits(value);
  if ((bits & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

absl::StatusOr<SafetensorsDtype> ParseDtype(const std::string& name, const std::string& source,
                                            const std::string& tensor) {
  if (name == "F32") return SafetensorsDtype::kF32;
  if (name == "F16") return SafetensorsDtype::kF16;
  if (name == "BF16") return SafetensorsDtype::kBF16;
  return absl::InvalidArgumentError(absl::StrCat(
      "safetensors file ", source, ": tensor ", tensor, " has dtype ", name,
      "; reftune reads F32, F16 and BF16"));
}

// Parses one header entry into `info`, checking it against the data section size.
absl::Status ParseTensorEntry(const std::string& name, const nlohmann::json& entry,
                              size_t data_bytes, const std::string& source,
                              SafetensorsTensorInfo* info) {
  const std::string where = absl::StrCat("safetensors file ", source, ": tensor ", name);
  if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
      !entry.contains("shape") || !entry["shape"].is_array() ||
      !entry.contains("data_offsets") || !entry["data_offsets"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " needs a string dtype, an array shape and an array data_offsets; got ",
        entry.dump()));
  }
  info->name = name;
  REFTUNE_ASSIGN_OR_RETURN(info->dtype, ParseDtype(entry["dtype"].get<std::string>(), source,
                                                   name));

  uint64_t elements = 1;
  for (const nlohmann::json& dim : entry["shape"]) {
    if (!dim.is_number_unsigned()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " has shape ", entry["shape"].dump(), "; expected non-negative integers"));
    }
    const uint64_t size = dim.get<uint64_t>();
    if (__builtin_mul_overflow(elements, size, &elements)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has shape ", entry["shape"].dump(), ", which overflows"));
    }
    info->shape.push_back(static_cast<int64_t>(size));
  }

  const nlohmann::json& offsets = entry["data_offsets"];
  if (offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has data_offsets ", offsets.dump(), "; expected [begin, end] byte offsets"));
  }
  info->begin = offsets[0].get<uint64_t>();
  info->end = offsets[1].get<uint64_t>();
  if (info->begin > info->end || info->end > data_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has data_offsets [", info->begin, ", ", info->end,
        "] outside the data section of ", data_bytes, " bytes"));
  }
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(elements, SafetensorsDtypeSize(info->dtype), &expected_bytes) ||
      info->end - info->begin != expected_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has ", info->end - info->begin, " bytes but dtype ",
        SafetensorsDtypeName(info->dtype), " with shape ", ShapeString(info->shape), " needs ",
        expected_bytes));
  }
  return absl::OkStatus();
}

absl::Status ParseMetadata(const nlohmann::json& entry, const std::string& source,
                           std::map<std::string, std::string>* metadata) {
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "safetensors file ", source, ": __metadata__ must be an object of strings, got ",
        entry.dump()));
  }
  for (const auto& [key, value] : entry.items()) {
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors file ", source, ": __metadata__ value of ", key,
          " must be a string, got ", value.dump()));
    }
    (*metadata)[key] = value.get<std::string>();
  }
  return absl::OkStatus();
}

// Rejects tensors whose byte ranges overlap, naming both.
absl::Status CheckNoOverlap(std::vector<SafetensorsTensorInfo> tensors, const std::string& source) {
  std::sort(tensors.begin(), tensors.end(),
            [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
              return a.begin < b.begin;
            });
  for (size_t i = 1; i < tensors.size(); ++i) {
    if (tensors[i].begin < tensors[i - 1].end) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors file ", source, ": tensor ", tensors[i].name, " at byte ",
          tensors[i].begin, " overlaps tensor ", tensors[i - 1].name, ", which ends at byte ",
          tensors[i - 1].end));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* SafetensorsDtypeName(SafetensorsDtype dtype) {
  switch (dtype) {
    case SafetensorsDtype::kF32:
      return "F32";
    case SafetensorsDtype::kF16:
      return "F16";
    case SafetensorsDtype::kBF16:
      return "BF16";
  }
  return "unknown";
}

size_t SafetensorsDtypeSize(SafetensorsDtype dtype) {
  return dtype == SafetensorsDtype::kF32 ? 4 : 2;
}

int64_t SafetensorsTensorInfo::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Read(const std::string& path) {
  REFTUNE_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, "safetensors file"));
  return Parse(std::move(bytes), path);
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Parse(std::string bytes, std::string source) {
  SafetensorsFile file;
  file.source_ = std::move(source);
  file.bytes_ = std::move(bytes);
  const std::string& data = file.bytes_;

  // The header length, checked against the file size.
  if (data.size() < kHeaderLengthBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "safetensors file ", file.source_, " is ", data.size(),
        " bytes, too short for the 8-byte header length"));
  }
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | static_cast<unsigned char>(data[i]);
  }
  if (header_bytes > kMaxHeaderBytes || header_bytes > data.size() - kHeaderLengthBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "safetensors file ", file.source_, " declares a header of ", header_bytes,
        " bytes but the file has ", data.size() - kHeaderLengthBytes,
        " bytes after the length field (the file is truncated or not safetensors)"));
  }
  file.data_start_ = kHeaderLengthBytes + header_bytes;
  const size_t data_bytes = data.size() - file.data_start_;

  // The JSON header: tensor entries and the optional __metadata__.
  const nlohmann::json header = nlohmann::json::parse(
      data.begin() + kHeaderLengthBytes, data.begin() + file.data_start_, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "safetensors file ", file.source_, " has a header that is not a JSON object"));
  }
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      REFTUNE_RETURN_IF_ERROR(ParseMetadata(entry, file.source_, &file.metadata_));
      continue;
    }
    SafetensorsTensorInfo info;
    REFTUNE_RETURN_IF_ERROR(ParseTensorEntry(name, entry, data_bytes, file.source_, &info));
    file.tensors_.push_back(std::move(info));
  }
  REFTUNE_RETURN_IF_ERROR(CheckNoOverlap(file.tensors_, file.source_));
  return file;
}

const SafetensorsTensorInfo* SafetensorsFile::Find(const std::string& name) const {
  for (const SafetensorsTensorInfo& tensor : tensors_) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

std::string_view SafetensorsFile::RawData(const SafetensorsTensorInfo& tensor) const {
  return std::string_view(bytes_).substr(data_start_ + tensor.begin, tensor.end - tensor.begin);
}

absl::StatusOr<std::vector<float>> SafetensorsFile::ReadFloat32(const std::string& name) const {
  const SafetensorsTensorInfo* tensor = Find(name);
  if (tensor == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("safetensors file ", source_, " has no tensor ", name));
  }
  std::vector<float> values(static_cast<size_t>(tensor->num_elements()));
  DecodeToFloat32(tensor->dtype, RawData(*tensor).data(), values.size(), values.data());
  return values;
}

void DecodeToFloat32(SafetensorsDtype dtype, const void* data, size_t count, float* out) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  switch (dtype) {
    case SafetensorsDtype::kF32:
      std::memcpy(out, bytes, count * sizeof(float));
      return;
    case SafetensorsDtype::kF16:
      for (size_t i = 0; i < count; ++i) {
        out[i] = HalfToFloat(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
      }
      return;
    case SafetensorsDtype::kBF16:
      for (size_t i = 0; i < count; ++i) {
        const uint32_t high = static_cast<uint32_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
        out[i] = BitsToFloat(high << 16);
      }
      return;
  }
}

std::string EncodeFromFloat32(SafetensorsDtype dtype, const float* values, size_t count) {
  std::string bytes;
  if (dtype == SafetensorsDtype::kF32) {
    bytes.assign(reinterpret_cast<const char*>(values), count * sizeof(float));
    return bytes;
  }
  bytes.resize(count * 2);
  for (size_t i = 0; i < count; ++i) {
    const uint16_t half = dtype == SafetensorsDtype::kF16 ? FloatToHalf(values[i])
                                                          : FloatToBfloat16(values[i]);
    bytes[2 * i] = static_cast<char>(half & 0xFF);
    bytes[2 * i + 1] = static_cast<char>(half >> 8);
  }
  return bytes;
}

absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<SafetensorsTensorView>& tensors,
    const std::map<std::string, std::string>& metadata) {
  // The header, with tensors laid out in the order given.
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const SafetensorsTensorView& tensor : tensors) {
    if (tensor.name == "__metadata__" || header.contains(tensor.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors tensor name ", tensor.name, " is reserved or repeated"));
    }
    int64_t elements = 1;
    for (int64_t dim : tensor.shape) elements *= dim;
    const size_t expected = static_cast<size_t>(elements) * SafetensorsDtypeSize(tensor.dtype);
    if (tensor.data.size() != expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors tensor ", tensor.name, " has ", tensor.data.size(), " bytes but dtype ",
          SafetensorsDtypeName(tensor.dtype), " with shape ", ShapeString(tensor.shape),
          " needs ", expected));
    }
    header[tensor.name] = {{"dtype", SafetensorsDtypeName(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + expected}}};
    offset += expected;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  // Length field, header, then the tensor bytes.
  std::string bytes;
  bytes.reserve(kHeaderLengthBytes + header_text.size() + offset);
  const uint64_t header_bytes = header_text.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((header_bytes >> (8 * i)) & 0xFF));
  bytes.append(header_text);
  for (const SafetensorsTensorView& tensor : tensors) bytes.append(tensor.data);
  return bytes;
}

absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<SafetensorsTensorView>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  REFTUNE_ASSIGN_OR_RETURN(const std::string bytes, SerializeSafetensors(tensors, metadata));
  return WriteFileBytes(path, bytes, "safetensors file");
}

}  // namespace reftune::model
