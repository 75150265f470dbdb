#include "services/common/status_conversion.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace reftune::services {
namespace {

TEST(StatusConversion, KeepsCodeAndMessage) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("dataset ds-1 not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "dataset ds-1 not found");
  EXPECT_TRUE(status.error_details().empty());
}

TEST(StatusConversion, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusConversion, BadRequestSurvivesRoundTrip) {
  const absl::Status original =
      WithBadRequest(absl::InvalidArgumentError("3 invalid records"),
                     {{"line 2", "invalid JSON"},
                      {"line 5: messages[1].role", "role \"bot\" is not user, assistant or system"},
                      {"line 9: response", "response is empty"}});

  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(wire.error_details().empty());

  const absl::Status restored = FromGrpcStatus(wire);
  EXPECT_EQ(restored.code(), absl::StatusCode::kInvalidArgument);
  const std::vector<FieldViolation> violations = BadRequestViolations(restored);
  ASSERT_EQ(violations.size(), 3u);
  EXPECT_EQ(violations[0].field, "line 2");
  EXPECT_EQ(violations[1].field, "line 5: messages[1].role");
  EXPECT_EQ(violations[2].description, "response is empty");
}

TEST(StatusConversion, NoViolationsWithoutPayload) {
  EXPECT_TRUE(BadRequestViolations(absl::InvalidArgumentError("bad")).empty());
}

TEST(StatusConversion, LongViolationListIsCut) {
  std::vector<FieldViolation> violations;
  for (int line = 1; line <= 200; ++line) {
    violations.push_back({absl::StrCat("line ", line, ": (record)"), std::string(120, 'x')});
  }
  const absl::Status status = InvalidArgumentWithViolations("dataset has 250 problems:",
                                                            violations, 250);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::vector<FieldViolation> listed = BadRequestViolations(status);
  ASSERT_GT(listed.size(), 5u);
  ASSERT_LT(listed.size(), 200u);
  EXPECT_EQ(listed.front().field, "line 1: (record)");
  EXPECT_EQ(listed.back().field, "(more)");
  EXPECT_EQ(listed.back().description,
            absl::StrCat(250 - (listed.size() - 1), " more problems not shown"));
  // The message names the first problems only.
  EXPECT_NE(status.message().find("line 1: (record)"), absl::string_view::npos);
  EXPECT_EQ(status.message().find("line 20: (record)"), absl::string_view::npos);
  // Message plus serialised details (which repeat the message) stay under gRPC's default 8 KiB
  // metadata limit after the base64 encoding of the binary details header (4/3), with 1 KiB left
  // for the other headers.
  const grpc::Status converted = ToGrpcStatus(status);
  EXPECT_LT(converted.error_message().size() + converted.error_details().size() * 4 / 3, 7168u);
}

TEST(StatusConversion, ShortViolationListIsWhole) {
  const absl::Status status = InvalidArgumentWithViolations(
      "job request has 2 invalid field(s):",
      {{"hyperparameters.lora_r", "must be 1 to 256, got 0"},
       {"hyperparameters.epochs", "must be 1 to 100, got 500"}},
      2);
  const std::vector<FieldViolation> listed = BadRequestViolations(status);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].field, "hyperparameters.epochs");
  EXPECT_EQ(status.message(),
            "job request has 2 invalid field(s):\n"
            "hyperparameters.lora_r: must be 1 to 256, got 0\n"
            "hyperparameters.epochs: must be 1 to 100, got 500");
}

}  // namespace
}  // namespace reftune::services
