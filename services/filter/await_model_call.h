// Waiting for model work from a gRPC handler without outliving the call.
#ifndef REFTUNE_SERVICES_FILTER_AWAIT_MODEL_CALL_H_
#define REFTUNE_SERVICES_FILTER_AWAIT_MODEL_CALL_H_

#include <chrono>
#include <future>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "services/filter/model_executor.h"

namespace reftune::filter {

// How often a waiting handler checks its call's deadline and cancellation.
inline constexpr std::chrono::milliseconds kCallPollInterval{20};

// Returns the result of `call`, or DEADLINE_EXCEEDED / CANCELLED within about kCallPollInterval
// of the call's deadline passing or the client cancelling. In those cases the task is abandoned:
// the executor drops it if it has not started. `operation` names the work in messages.
template <typename T>
absl::StatusOr<T> AwaitModelCall(grpc::ServerContext* context, ModelCall<T>& call,
                                 absl::string_view operation) {
  while (true) {
    if (call.future().wait_for(kCallPollInterval) == std::future_status::ready) {
      return call.future().get();
    }
    if (std::chrono::system_clock::now() >= context->deadline()) {
      call.Abandon();
      return absl::DeadlineExceededError(
          absl::StrCat(operation, " did not finish before the call's deadline"));
    }
    if (context->IsCancelled()) {
      call.Abandon();
      return absl::CancelledError(absl::StrCat(operation, " stopped: the client cancelled"));
    }
  }
}

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_AWAIT_MODEL_CALL_H_
