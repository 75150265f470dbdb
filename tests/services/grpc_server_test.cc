#include "services/common/grpc_server.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/metrics/metrics.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"

namespace reftune::services {
namespace {

TEST(GrpcServer, ServesHealthOnFreePort) {
  metrics::Metrics metrics;
  GrpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  auto started = StartGrpcServer(options, {}, &metrics);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_GT(started->port, 0);

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", started->port),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  started->server->Shutdown();
}

TEST(GrpcServer, CountsCallsByMethodAndCode) {
  metrics::Metrics metrics;
  GrpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  auto started = StartGrpcServer(options, {}, &metrics);
  ASSERT_TRUE(started.ok()) << started.status();

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", started->port),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(stub->Check(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  started->server->Shutdown();

  const double count =
      metrics.grpc_requests
          .Add({{"method", "/grpc.health.v1.Health/Check"}, {"code", "NOT_FOUND"}})
          .Value();
  EXPECT_EQ(count, 1);
}

TEST(GrpcServer, RejectsPlaintextOnRemoteAddress) {
  GrpcServerOptions options;
  options.listen_address = "0.0.0.0:0";
  auto started = StartGrpcServer(options, {}, nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("0.0.0.0:0"), absl::string_view::npos);
}

TEST(GrpcServer, RejectsCertificateWithoutKey) {
  GrpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = "/nonexistent/cert.pem";
  auto started = StartGrpcServer(options, {}, nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LoopbackAddress, RecognisesLoopbackForms) {
  struct Case {
    std::string address;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1:50051", true}, {"localhost:1", true},  {"[::1]:80", true},
      {"::1", true},             {"0.0.0.0:80", false},  {"10.0.0.1:80", false},
      {"[::]:80", false},        {"example.com:443", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    EXPECT_EQ(IsLoopbackAddress(c.address), c.loopback);
  }
}

}  // namespace
}  // namespace reftune::services
