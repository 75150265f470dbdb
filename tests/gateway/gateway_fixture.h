// A real gateway on 127.0.0.1 with a fresh database and artifact root per test, an operator key
// from Bootstrap, and helpers that call it through the generated stubs.
#ifndef REFTUNE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
#define REFTUNE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "reftune/v1/customer_service.grpc.pb.h"
#include "reftune/v1/operator_service.grpc.pb.h"
#include "services/gateway/gateway_server.h"

namespace reftune::gateway {

// A tenant with a customer key.
struct TestTenant {
  std::string id;
  std::string key_id;
  std::string secret;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Lets a test change the options before the server starts; call StartGateway afterwards.
  virtual void Configure(GatewayServerOptions& options) {}

  // A client context carrying `secret` as a bearer token (none when empty).
  static std::unique_ptr<grpc::ClientContext> CallWith(const std::string& secret);

  // Creates a tenant and a customer key through the operator API.
  TestTenant CreateTenant(const std::string& name);

  // Uploads `content` in chunks of `chunk_bytes`.
  grpc::Status Upload(const std::string& secret, const std::string& name,
                      const std::string& content, size_t chunk_bytes, v1::Dataset* dataset);

  // Registers stories260K as base model "stories260K".
  void RegisterStoriesModel();

  // A CreateJobRequest for SFT on `dataset_id`, with small hyperparameters.
  static v1::CreateJobRequest SftJob(const std::string& dataset_id, const std::string& request_id);

  // `count` valid prompt/response JSONL lines.
  static std::string ValidDataset(int count);

  std::string data_dir_;
  std::string artifact_root_;
  std::string connection_string_;
  std::unique_ptr<GatewayServer> gateway_;
  std::string operator_secret_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CustomerService::Stub> customer_;
  std::unique_ptr<v1::OperatorService::Stub> operator_;
};

// Violation fields of a BadRequest detail in `status`.
std::vector<std::string> ViolationFields(const grpc::Status& status);

}  // namespace reftune::gateway

#endif  // REFTUNE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
