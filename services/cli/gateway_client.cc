#include "services/cli/gateway_client.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "services/cli/commands.h"
#include "services/common/status_conversion.h"

namespace reftune::cli {

std::unique_ptr<grpc::ClientContext> GatewayCall(const ClientOptions& options,
                                                 double timeout_seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!options.api_key.empty()) context->AddMetadata("authorization", "Bearer " + options.api_key);
  if (timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)));
  }
  return context;
}

void AddCommon(CLI::App& command, CommonFlags* common) {
  AddClientFlags(command, &common->client);
  command.add_flag("--json", common->json, "print JSON instead of a table");
}

int PrintRpcError(const std::string& command, const grpc::Status& status) {
  const absl::Status converted = services::FromGrpcStatus(status);
  const std::vector<services::FieldViolation> violations =
      services::BadRequestViolations(converted);
  std::cerr << "reftune " << command << ": " << absl::StatusCodeToString(converted.code());
  if (violations.empty()) {
    std::cerr << ": " << status.error_message() << "\n";
    return kExitFailure;
  }
  std::cerr << ": " << violations.size() << " problem(s)\n";
  for (const services::FieldViolation& violation : violations) {
    std::cerr << "  " << violation.field << ": " << violation.description << "\n";
  }
  return kExitFailure;
}

void PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  std::cout << text << "\n";
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const std::string& cell : header) widths.push_back(cell.size());
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      std::cout << row[i];
      if (i + 1 < row.size()) std::cout << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

std::string FormatTime(int64_t seconds) {
  if (seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
}

}  // namespace reftune::cli
