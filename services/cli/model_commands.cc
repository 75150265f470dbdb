// Subcommands that work on model files offline: `reftune model convert`.
#include <iostream>
#include <memory>
#include <string>

#include "core/model/checkpoint.h"
#include "services/cli/commands.h"

namespace reftune::cli {
namespace {

struct ConvertOptions {
  std::string llama2c_model;
  std::string llama2c_tokenizer;
  std::string out;
};

// Converts a llama2.c checkpoint and its tokenizer.bin to a Hugging Face Llama folder.
int RunConvert(const ConvertOptions& options) {
  auto checkpoint =
      model::LoadLlama2cCheckpoint(options.llama2c_model, options.llama2c_tokenizer);
  if (!checkpoint.ok()) {
    std::cerr << "reftune model convert: " << checkpoint.status().message() << "\n";
    return kExitFailure;
  }
  const absl::Status saved = model::SaveHuggingFaceCheckpoint(*checkpoint, options.out);
  if (!saved.ok()) {
    std::cerr << "reftune model convert: " << saved.message() << "\n";
    return kExitFailure;
  }
  const model::ModelConfig& config = checkpoint->config;
  std::cout << "wrote " << options.out << ": " << config.n_layers << " layers, dim "
            << config.dim << ", vocab " << config.vocab_size
            << " (config.json, model.safetensors, tokenizer.bin)\n";
  return kExitOk;
}

}  // namespace

void AddModelCommands(CLI::App& app, int* exit_code) {
  CLI::App* model = app.add_subcommand("model", "Work with model files offline");
  model->require_subcommand(1);

  auto options = std::make_shared<ConvertOptions>();
  CLI::App* convert = model->add_subcommand(
      "convert", "Convert a llama2.c checkpoint to a Hugging Face Llama folder");
  convert->add_option("--llama2c-model", options->llama2c_model,
                      "llama2.c checkpoint, e.g. stories260K.bin")
      ->required()
      ->check(CLI::ExistingFile);
  convert->add_option("--llama2c-tokenizer", options->llama2c_tokenizer,
                      "llama2.c tokenizer.bin of the checkpoint, e.g. tok512.bin")
      ->required()
      ->check(CLI::ExistingFile);
  convert->add_option("--out", options->out,
                      "Output folder; created, and it must be empty if it exists")
      ->required();
  convert->callback([options, exit_code] { *exit_code = RunConvert(*options); });
}

}  // namespace reftune::cli
