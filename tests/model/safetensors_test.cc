// Tests of the safetensors reader and writer: round trips per dtype and rejection of malformed
// files with the file and the tensor named.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/model/file_bytes.h"
#include "core/model/safetensors.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model/test_files.h"

namespace reftune::model {
namespace {

using ::reftune::model::testing::TempFolder;

std::string AsBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// A safetensors file built by hand from a header and a data section.
std::string RawFile(const nlohmann::json& header, const std::string& data) {
  const std::string text = header.dump();
  std::string bytes(8, '\0');
  const uint64_t length = text.size();
  std::memcpy(bytes.data(), &length, sizeof(length));
  return bytes + text + data;
}

TEST(Safetensors, RoundTripsEachDtype) {
  // Values that F16 and BF16 represent exactly, so every dtype round-trips without error.
  const std::vector<float> values = {0.0f, -0.0f, 1.0f, -2.5f, 0.125f, 1024.0f, -3.0f, 0.5f};
  for (SafetensorsDtype dtype :
       {SafetensorsDtype::kF32, SafetensorsDtype::kF16, SafetensorsDtype::kBF16}) {
    SCOPED_TRACE(SafetensorsDtypeName(dtype));
    TempFolder folder;
    const std::string path = folder.File("weights.safetensors");
    const std::string encoded = EncodeFromFloat32(dtype, values.data(), values.size());
    EXPECT_EQ(encoded.size(), values.size() * SafetensorsDtypeSize(dtype));
    const std::string scalar = EncodeFromFloat32(dtype, values.data(), 1);
    ASSERT_TRUE(WriteSafetensors(path,
                                 {{"layer.weight", dtype, {2, 4}, encoded},
                                  {"scalar", dtype, {}, scalar},
                                  {"empty", dtype, {0, 3}, ""}},
                                 {{"format", "pt"}})
                    .ok());

    auto file = SafetensorsFile::Read(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
    ASSERT_EQ(file->tensors().size(), 3u);
    const SafetensorsTensorInfo* weight = file->Find("layer.weight");
    ASSERT_NE(weight, nullptr);
    EXPECT_EQ(weight->dtype, dtype);
    EXPECT_EQ(weight->shape, (std::vector<int64_t>{2, 4}));
    EXPECT_EQ(file->RawData(*weight), encoded);
    auto decoded = file->ReadFloat32("layer.weight");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, values);
    EXPECT_EQ(std::signbit((*decoded)[1]), true);
    EXPECT_EQ(file->Find("scalar")->shape, std::vector<int64_t>{});
    EXPECT_EQ(*file->ReadFloat32("scalar"), std::vector<float>{0.0f});
    EXPECT_TRUE(file->ReadFloat32("empty")->empty());
  }
}

TEST(Safetensors, HeaderIsPaddedToEightBytes) {
  const std::vector<float> values = {1.0f, 2.0f, 3.0f};
  for (const std::string name : {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    SCOPED_TRACE(name);
    auto bytes = SerializeSafetensors({{name, SafetensorsDtype::kF32, {3}, AsBytes(values)}});
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    uint64_t header_length = 0;
    std::memcpy(&header_length, bytes->data(), sizeof(header_length));
    EXPECT_EQ(header_length % 8, 0u);
    EXPECT_EQ(bytes->size(), 8 + header_length + 12);
    EXPECT_TRUE(SafetensorsFile::Parse(*bytes, "padded").ok());
  }
}

TEST(Safetensors, RoundsHalfPrecisionToNearestEven) {
  struct Case {
    float value;
    uint16_t f16;
    uint16_t bf16;
  };
  const std::vector<Case> cases = {
      {1.0f, 0x3C00, 0x3F80},
      {1.0f / 3.0f, 0x3555, 0x3EAB},
      {65504.0f, 0x7BFF, 0x4780},
      {1e6f, 0x7C00, 0x4974},
      {-std::numeric_limits<float>::infinity(), 0xFC00, 0xFF80},
      {5.960464477539063e-8f, 0x0001, 0x3380},  // The smallest F16 subnormal.
      {1.0009765625f + 0.00048828125f, 0x3C02, 0x3F80},  // Halfway between 0x3C01 and 0x3C02.
      {1.00048828125f, 0x3C00, 0x3F80},  // Halfway between 0x3C00 and 0x3C01: rounds to even.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    const std::string f16 = EncodeFromFloat32(SafetensorsDtype::kF16, &c.value, 1);
    const std::string bf16 = EncodeFromFloat32(SafetensorsDtype::kBF16, &c.value, 1);
    EXPECT_EQ(static_cast<uint8_t>(f16[0]) | (static_cast<uint8_t>(f16[1]) << 8), c.f16);
    EXPECT_EQ(static_cast<uint8_t>(bf16[0]) | (static_cast<uint8_t>(bf16[1]) << 8), c.bf16);
  }

  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (SafetensorsDtype dtype : {SafetensorsDtype::kF16, SafetensorsDtype::kBF16}) {
    const std::string encoded = EncodeFromFloat32(dtype, &nan, 1);
    float decoded = 0;
    DecodeToFloat32(dtype, encoded.data(), 1, &decoded);
    EXPECT_TRUE(std::isnan(decoded));
  }
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  const std::string eight_bytes(8, '\0');
  auto wrong_size = SerializeSafetensors({{"w", SafetensorsDtype::kF32, {3}, eight_bytes}});
  EXPECT_EQ(wrong_size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_size.status().message().find("tensor w has 8 bytes"), std::string::npos)
      << wrong_size.status();

  auto repeated = SerializeSafetensors({{"w", SafetensorsDtype::kF32, {2}, eight_bytes},
                                        {"w", SafetensorsDtype::kF32, {2}, eight_bytes}});
  EXPECT_EQ(repeated.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Safetensors, RejectsMalformedFiles) {
  const std::string data = AsBytes({1.0f, 2.0f, 3.0f, 4.0f});
  const nlohmann::json good = {
      {"w", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}}};
  const std::string good_file = RawFile(good, data);
  ASSERT_TRUE(SafetensorsFile::Parse(good_file, "model.safetensors").ok());

  std::string huge_length = good_file;
  const uint64_t too_long = 1ull << 40;
  std::memcpy(huge_length.data(), &too_long, sizeof(too_long));

  struct Case {
    std::string name;
    std::string contents;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"shorter than the length field", "abc", "too short for the 8-byte header length"},
      {"header length past the end", huge_length, "declares a header of 1099511627776 bytes"},
      {"truncated data", good_file.substr(0, good_file.size() - 4),
       "tensor w has data_offsets [0, 16] outside the data section of 12 bytes"},
      {"header not JSON", RawFile(nullptr, "") + "{not json", "not a JSON object"},
      {"offsets out of range",
       RawFile({{"w", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {8, 24}}}}}, data),
       "tensor w has data_offsets [8, 24] outside the data section of 16 bytes"},
      {"shape larger than data",
       RawFile({{"w", {{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 16}}}}}, data),
       "tensor w has 16 bytes but dtype F32 with shape [2, 3] needs 24"},
      {"dtype size mismatch",
       RawFile({{"w", {{"dtype", "F16"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}}}, data),
       "tensor w has 16 bytes but dtype F16 with shape [2, 2] needs 8"},
      {"unsupported dtype",
       RawFile({{"w", {{"dtype", "I64"}, {"shape", {2}}, {"data_offsets", {0, 16}}}}}, data),
       "tensor w has dtype I64"},
      {"negative dimension",
       RawFile({{"w", {{"dtype", "F32"}, {"shape", {-1, 4}}, {"data_offsets", {0, 16}}}}}, data),
       "tensor w has shape [-1,4]"},
      {"missing data_offsets", RawFile({{"w", {{"dtype", "F32"}, {"shape", {4}}}}}, data),
       "tensor w needs a string dtype"},
      {"overlapping tensors",
       RawFile({{"a", {{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 12}}}},
                {"b", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {8, 16}}}}},
               data),
       "tensor b at byte 8 overlaps tensor a"},
      {"metadata not strings",
       RawFile({{"__metadata__", {{"step", 3}}},
                {"w", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {0, 16}}}}},
               data),
       "__metadata__ value of step must be a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto file = SafetensorsFile::Parse(c.contents, "model.safetensors");
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(file.status().message().find("model.safetensors"), std::string::npos)
        << file.status();
    EXPECT_NE(file.status().message().find(c.message), std::string::npos) << file.status();
  }
}

TEST(Safetensors, MissingTensorOrFileIsNotFound) {
  TempFolder folder;
  const std::string path = folder.File("one.safetensors");
  const std::string data = AsBytes({1.0f});
  ASSERT_TRUE(WriteSafetensors(path, {{"present", SafetensorsDtype::kF32, {1}, data}}).ok());
  auto file = SafetensorsFile::Read(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto missing = file->ReadFloat32("absent");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path), std::string::npos) << missing.status();
  EXPECT_NE(missing.status().message().find("absent"), std::string::npos) << missing.status();

  EXPECT_EQ(SafetensorsFile::Read(folder.File("nope.safetensors")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace reftune::model
