// TLS between a server and a client, with a self-signed certificate the test makes with openssl.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_server.h"

namespace reftune::services {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/reftune-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    folder_ = pattern;
    cert_ = folder_ + "/cert.pem";
    key_ = folder_ + "/key.pem";
    const std::string command = absl::StrCat(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost ",
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ", key_, " -out ", cert_,
        " 2>/dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  void TearDown() override { std::filesystem::remove_all(folder_); }

  grpc::Status CheckHealth(int port, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    auto channel =
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), credentials, arguments);
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response);
  }

  // Server options for TLS on a free loopback port with the test's certificate.
  GrpcServerOptions TlsOptions() const {
    GrpcServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.tls_cert_file = cert_;
    options.tls_key_file = key_;
    return options;
  }

  std::string folder_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsTest, ClientWithCaConnects) {
  auto started = StartGrpcServer(TlsOptions(), {}, nullptr);
  ASSERT_TRUE(started.ok()) << started.status();

  auto ca = ReadTextFile(cert_);
  ASSERT_TRUE(ca.ok()) << ca.status();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  const grpc::Status status = CheckHealth(started->port, grpc::SslCredentials(ssl));
  EXPECT_TRUE(status.ok()) << status.error_message();
  started->server->Shutdown();
}

TEST_F(TlsTest, ClientCredentialsFromCaFile) {
  auto started = StartGrpcServer(TlsOptions(), {}, nullptr);
  ASSERT_TRUE(started.ok()) << started.status();

  auto credentials = ClientCredentials(cert_);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  const grpc::Status status = CheckHealth(started->port, *credentials);
  EXPECT_TRUE(status.ok()) << status.error_message();
  started->server->Shutdown();

  auto missing = ClientCredentials(folder_ + "/no-such-ca.pem");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TlsTest, PlaintextClientIsRejected) {
  GrpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = cert_;
  options.tls_key_file = key_;
  auto started = StartGrpcServer(options, {}, nullptr);
  ASSERT_TRUE(started.ok()) << started.status();

  const grpc::Status status = CheckHealth(started->port, grpc::InsecureChannelCredentials());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  started->server->Shutdown();
}

TEST_F(TlsTest, MissingKeyFileIsNotFound) {
  GrpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = cert_;
  options.tls_key_file = folder_ + "/missing.pem";
  auto started = StartGrpcServer(options, {}, nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(started.status().message().find("missing.pem"), absl::string_view::npos);
}

}  // namespace
}  // namespace reftune::services
