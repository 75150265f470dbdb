// Customer subcommands: upload, datasets, jobs, screening-report, download and base-models.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reftune/v1/customer_service.grpc.pb.h"
#include "services/cli/client_options.h"
#include "services/cli/commands.h"
#include "services/cli/gateway_client.h"

namespace reftune::cli {
namespace {

// Upload chunk size: well under the gateway's 16 MiB message limit.
constexpr size_t kUploadChunkBytes = size_t{1} << 20;

void PrintDatasets(const std::vector<const v1::Dataset*>& datasets) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Dataset* dataset : datasets) {
    rows.push_back({dataset->id(), dataset->name(),
                    v1::DatasetPurpose_Name(dataset->purpose()).substr(16),
                    absl::StrCat(dataset->record_count()), absl::StrCat(dataset->size_bytes()),
                    FormatTime(dataset->create_time().seconds())});
  }
  PrintTable({"ID", "NAME", "PURPOSE", "RECORDS", "BYTES", "CREATED"}, rows);
}

int RunUpload(const Common& common, const std::string& file, const std::string& name) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "reftune upload: cannot read " << file << "\n";
    return kExitFailure;
  }
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  return WithStub<v1::CustomerService>("upload", common.client, [&](v1::CustomerService::Stub& stub) {
    auto context = GatewayCall(common.client, 0);
    v1::Dataset dataset;
    auto writer = stub.UploadDataset(context.get(), &dataset);
    v1::UploadDatasetRequest header;
    header.mutable_header()->set_name(name.empty() ? std::filesystem::path(file).filename().string()
                                                   : name);
    if (!error) header.mutable_header()->set_size_bytes(static_cast<int64_t>(size));
    writer->Write(header);
    std::string buffer(kUploadChunkBytes, '\0');
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      v1::UploadDatasetRequest chunk;
      chunk.set_chunk(buffer.data(), static_cast<size_t>(in.gcount()));
      if (in.gcount() > 0 && !writer->Write(chunk)) break;
    }
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok()) return PrintRpcError("upload", status);
    if (common.json) {
      PrintJson(dataset);
    } else {
      PrintDatasets({&dataset});
      for (const v1::RecordIssue& warning : dataset.report().warnings()) {
        std::cerr << "warning: line " << warning.line() << ": " << warning.field() << ": "
                  << warning.message() << "\n";
      }
    }
    return kExitOk;
  });
}

void AddUpload(CLI::App& app, int* exit_code) {
  auto common = std::make_shared<Common>();
  auto file = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  CLI::App* upload = app.add_subcommand("upload", "Upload a JSONL dataset to the gateway");
  AddCommon(*upload, common.get());
  upload->add_option("file", *file, "JSONL file to upload")->required();
  upload->add_option("--name", *name, "dataset name (default: the file name)");
  upload->callback([=] { *exit_code = RunUpload(*common, *file, *name); });
}

void AddDatasets(CLI::App& app, int* exit_code) {
  CLI::App* datasets = app.add_subcommand("datasets", "List, show or delete datasets");
  datasets->require_subcommand(1);
  auto common = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();

  CLI::App* list = datasets->add_subcommand("list", "List your datasets, newest first");
  AddCommon(*list, common.get());
  list->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("datasets list", common->client, [&](v1::CustomerService::Stub& stub) {
      v1::ListDatasetsRequest request;
      std::vector<v1::Dataset> all;
      do {
        v1::ListDatasetsResponse response;
        const grpc::Status status = stub.ListDatasets(GatewayCall(common->client).get(), request, &response);
        if (!status.ok()) return PrintRpcError("datasets list", status);
        for (const v1::Dataset& dataset : response.datasets()) all.push_back(dataset);
        request.set_page_token(response.next_page_token());
      } while (!request.page_token().empty());
      v1::ListDatasetsResponse merged;
      std::vector<const v1::Dataset*> pointers;
      for (const v1::Dataset& dataset : all) *merged.add_datasets() = dataset;
      for (const v1::Dataset& dataset : merged.datasets()) pointers.push_back(&dataset);
      common->json ? PrintJson(merged) : PrintDatasets(pointers);
      return kExitOk;
    });
  });

  CLI::App* get = datasets->add_subcommand("get", "Show one dataset and its validation report");
  AddCommon(*get, common.get());
  get->add_option("dataset_id", *id, "dataset id")->required();
  get->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("datasets get", common->client, [&](v1::CustomerService::Stub& stub) {
      v1::GetDatasetRequest request;
      request.set_dataset_id(*id);
      v1::Dataset dataset;
      const grpc::Status status = stub.GetDataset(GatewayCall(common->client).get(), request, &dataset);
      if (!status.ok()) return PrintRpcError("datasets get", status);
      common->json ? PrintJson(dataset) : PrintDatasets({&dataset});
      return kExitOk;
    });
  });

  CLI::App* remove = datasets->add_subcommand("delete", "Delete a dataset");
  AddCommon(*remove, common.get());
  remove->add_option("dataset_id", *id, "dataset id")->required();
  remove->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("datasets delete", common->client, [&](v1::CustomerService::Stub& stub) {
      v1::DeleteDatasetRequest request;
      request.set_dataset_id(*id);
      v1::DeleteDatasetResponse response;
      const grpc::Status status = stub.DeleteDataset(GatewayCall(common->client).get(), request, &response);
      if (!status.ok()) return PrintRpcError("datasets delete", status);
      std::cout << "deleted " << *id << "\n";
      return kExitOk;
    });
  });
}

}  // namespace

void AddCustomerCommands(CLI::App& app, int* exit_code) {
  AddUpload(app, exit_code);
  AddDatasets(app, exit_code);
  AddCustomerJobCommands(app, exit_code);
  AddCustomerModelCommands(app, exit_code);
}

}  // namespace reftune::cli
