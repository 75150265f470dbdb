#include "tests/gateway/gateway_fixture.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/status_conversion.h"
#include "services/gateway/bootstrap.h"
#include "tests/support/postgres_environment.h"

namespace reftune::gateway {
namespace {

const auto* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new test_support::PostgresEnvironment);

std::string MakeTempFolder() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "reftune-gateway-test-XXXXXX").string();
  const char* made = mkdtemp(pattern.data());
  return made == nullptr ? std::string() : std::string(made);
}

}  // namespace

void GatewayTest::SetUp() {
  const char* data_dir = std::getenv("REFTUNE_DATA_DIR");
  data_dir_ = data_dir == nullptr ? "" : data_dir;
  artifact_root_ = MakeTempFolder();
  ASSERT_FALSE(artifact_root_.empty());
  connection_string_ = test_support::PostgresEnvironment::NewDatabase();

  GatewayServerOptions options;
  options.grpc.listen_address = "127.0.0.1:0";
  options.database.connection_string = connection_string_;
  options.database.pool_size = 4;
  options.gateway.artifact_root = artifact_root_;
  options.gateway.watch_poll_interval = absl::Seconds(5);
  options.sample_interval = absl::Milliseconds(200);
  Configure(options);
  absl::StatusOr<std::unique_ptr<GatewayServer>> started = GatewayServer::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  gateway_ = std::move(*started);

  absl::StatusOr<BootstrapResult> bootstrap = Bootstrap(&gateway_->database(), false);
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  ASSERT_TRUE(bootstrap->key.has_value());
  operator_secret_ = bootstrap->key->secret;

  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_->port()),
                                 grpc::InsecureChannelCredentials());
  customer_ = v1::CustomerService::NewStub(channel_);
  operator_ = v1::OperatorService::NewStub(channel_);
}

void GatewayTest::TearDown() {
  if (gateway_ != nullptr) gateway_->Shutdown(absl::Seconds(1));
  gateway_.reset();
  std::error_code error;
  if (!artifact_root_.empty()) std::filesystem::remove_all(artifact_root_, error);
}

std::unique_ptr<grpc::ClientContext> GatewayTest::CallWith(const std::string& secret) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!secret.empty()) context->AddMetadata("authorization", "Bearer " + secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

TestTenant GatewayTest::CreateTenant(const std::string& name) {
  TestTenant tenant;
  v1::CreateTenantRequest create;
  create.set_name(name);
  v1::Tenant created;
  grpc::Status status = operator_->CreateTenant(CallWith(operator_secret_).get(), create, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
  tenant.id = created.id();

  v1::CreateApiKeyRequest key_request;
  key_request.set_tenant_id(tenant.id);
  v1::CreateApiKeyResponse key;
  status = operator_->CreateApiKey(CallWith(operator_secret_).get(), key_request, &key);
  EXPECT_TRUE(status.ok()) << status.error_message();
  tenant.key_id = key.key().id();
  tenant.secret = key.secret();
  return tenant;
}

grpc::Status GatewayTest::Upload(const std::string& secret, const std::string& name,
                                 const std::string& content, size_t chunk_bytes,
                                 v1::Dataset* dataset) {
  auto context = CallWith(secret);
  auto writer = customer_->UploadDataset(context.get(), dataset);
  v1::UploadDatasetRequest header;
  header.mutable_header()->set_name(name);
  header.mutable_header()->set_size_bytes(static_cast<int64_t>(content.size()));
  writer->Write(header);
  for (size_t offset = 0; offset < content.size(); offset += chunk_bytes) {
    v1::UploadDatasetRequest chunk;
    chunk.set_chunk(content.substr(offset, chunk_bytes));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

void GatewayTest::RegisterStoriesModel() {
  ASSERT_FALSE(data_dir_.empty()) << "REFTUNE_DATA_DIR is not set";
  v1::RegisterBaseModelRequest request;
  request.set_name("stories260K");
  request.set_format("llama2c");
  request.set_path(data_dir_ + "/stories260K/stories260K.bin");
  request.set_tokenizer_path(data_dir_ + "/stories260K/tok512.bin");
  request.set_prompt_template("Q: {prompt}\nA:");
  v1::BaseModel model;
  grpc::Status status =
      operator_->RegisterBaseModel(CallWith(operator_secret_).get(), request, &model);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(model.max_seq_len(), 512);
}

v1::CreateJobRequest GatewayTest::SftJob(const std::string& dataset_id,
                                         const std::string& request_id) {
  v1::CreateJobRequest request;
  request.set_dataset_id(dataset_id);
  request.set_base_model("stories260K");
  request.set_safety_mode(v1::SAFETY_MODE_SFT);
  request.set_request_id(request_id);
  request.mutable_hyperparameters()->set_lora_r(4);
  request.mutable_hyperparameters()->set_max_seq_len(128);
  return request;
}

std::string GatewayTest::ValidDataset(int count) {
  std::string content;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&content, "{\"prompt\": \"Tell a story about toy number ", i,
                    "\", \"response\": \"Once upon a time there was toy ", i, ".\"}\n");
  }
  return content;
}

std::vector<std::string> ViolationFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const services::FieldViolation& violation :
       services::BadRequestViolations(services::FromGrpcStatus(status))) {
    fields.push_back(violation.field);
  }
  return fields;
}

}  // namespace reftune::gateway
