#include "services/common/status_conversion.h"

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

}  // namespace
}  // namespace reftune::services
