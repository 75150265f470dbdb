// The reftune-gateway and reftune binaries run as subprocesses against the suite's database and a
// gateway started by the fixture.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "core/store/database.h"
#include "core/store/tenant_store.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/postgres_environment.h"

namespace reftune::gateway {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs `command` through the shell and returns its exit code and stdout.
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string BuildDir() {
  const char* dir = std::getenv("REFTUNE_BUILD_DIR");
  return dir == nullptr ? "" : dir;
}

// Single-quotes `text` for the shell.
std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

TEST(GatewayBinary, BootstrapPrintsKeyOnce) {
  ASSERT_FALSE(BuildDir().empty()) << "REFTUNE_BUILD_DIR is not set";
  const std::string binary = BuildDir() + "/services/gateway/reftune-gateway";
  const std::string database = test_support::PostgresEnvironment::NewDatabase();
  const std::string command =
      absl::StrCat(binary, " bootstrap --database ", Quote(database), " 2>/dev/null");

  const CommandResult first = RunCommand(command);
  ASSERT_EQ(first.exit_code, 0);
  const std::string key(absl::StripAsciiWhitespace(first.output));
  EXPECT_THAT(key, ::testing::StartsWith("rtk_"));

  const CommandResult second = RunCommand(command);
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_EQ(second.output, "");

  const CommandResult forced = RunCommand(absl::StrCat(
      binary, " bootstrap --force-new-key --database ", Quote(database), " 2>/dev/null"));
  EXPECT_EQ(forced.exit_code, 0);
  EXPECT_THAT(forced.output, ::testing::StartsWith("rtk_"));
  EXPECT_NE(std::string(absl::StripAsciiWhitespace(forced.output)), key);

  // The printed key is an operator key.
  store::DatabaseOptions options;
  options.connection_string = database;
  auto opened = store::Database::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store::TenantStore tenants(opened->get());
  absl::StatusOr<store::Principal> principal = tenants.Authenticate(key);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role, store::ApiKeyRole::kOperator);
}

TEST_F(GatewayTest, CliUploadsAndListsJobs) {
  ASSERT_FALSE(BuildDir().empty()) << "REFTUNE_BUILD_DIR is not set";
  const std::string cli = BuildDir() + "/services/cli/reftune";
  if (!std::filesystem::exists(cli)) {
    GTEST_SKIP() << cli << " is not built; build the reftune target to run this test";
  }
  RegisterStoriesModel();
  const TestTenant tenant = CreateTenant("acme");
  const std::string file = artifact_root_ + "/upload.jsonl";
  std::ofstream(file) << ValidDataset(6);
  const std::string flags =
      absl::StrCat(" --server 127.0.0.1:", gateway_->port(), " --api-key ", tenant.secret);

  const CommandResult upload =
      RunCommand(absl::StrCat(cli, " upload ", file, " --name cli-set --json", flags));
  ASSERT_EQ(upload.exit_code, 0) << upload.output;
  const nlohmann::json dataset = nlohmann::json::parse(upload.output);
  EXPECT_EQ(dataset["name"], "cli-set");
  EXPECT_EQ(dataset["record_count"], "6");

  v1::Job job;
  ASSERT_TRUE(customer_->CreateJob(CallWith(tenant.secret).get(),
                                   SftJob(dataset["id"].get<std::string>(), "r1"), &job)
                  .ok());
  const CommandResult listed = RunCommand(absl::StrCat(cli, " jobs list --json", flags));
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const nlohmann::json jobs = nlohmann::json::parse(listed.output);
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["id"], job.id());
  EXPECT_EQ(jobs["jobs"][0]["state"], "JOB_STATE_QUEUED");

  // A bad file exits 1 and prints each problem with its line.
  std::ofstream(file) << "{\"prompt\": \"x\"}\nnot json\n";
  const CommandResult rejected =
      RunCommand(absl::StrCat(cli, " upload ", file, flags, " 2>&1"));
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_THAT(rejected.output, HasSubstr("line 1:"));
  EXPECT_THAT(rejected.output, HasSubstr("line 2:"));
}

}  // namespace
}  // namespace reftune::gateway
