#include "services/gateway/job_watch.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/store/paging.h"
#include "services/gateway/proto_conversion.h"

namespace reftune::gateway {
namespace {

// Keeps the hub's registration for the life of one watch.
class WatchRegistration {
 public:
  WatchRegistration(EventHub* hub, std::string job_id) : hub_(hub), job_id_(std::move(job_id)) {
    seen_ = hub_->Watch(job_id_);
  }
  ~WatchRegistration() { hub_->Unwatch(job_id_); }
  uint64_t seen_ = 0;

 private:
  EventHub* hub_;
  std::string job_id_;
};

absl::Status CallEnded(grpc::ServerContext& call, const std::string& job_id) {
  if (call.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        absl::StrCat("deadline passed while watching job ", job_id));
  }
  return absl::CancelledError(absl::StrCat("client cancelled the watch of job ", job_id));
}

// Sends every event after *after_sequence and advances it.
absl::Status SendNewEvents(GatewayContext& context, const std::string& tenant_id,
                           const std::string& job_id, int64_t* after_sequence,
                           grpc::ServerWriter<v1::JobEvent>* writer, grpc::ServerContext& call) {
  store::PageRequest page;
  page.page_size = store::kMaxPageSize;
  page.page_token = store::EncodeSequenceCursor(*after_sequence);
  while (true) {
    REFTUNE_ASSIGN_OR_RETURN(store::Page<store::JobEvent> events,
                             context.jobs.ListJobEvents(tenant_id, job_id, page));
    for (const store::JobEvent& event : events.items) {
      if (!writer->Write(JobEventToProto(event))) return CallEnded(call, job_id);
      *after_sequence = event.sequence;
    }
    if (events.next_page_token.empty()) return absl::OkStatus();
    page.page_token = events.next_page_token;
  }
}

}  // namespace

absl::Status StreamJobEvents(GatewayContext& context, grpc::ServerContext& call,
                             const std::string& tenant_id, const std::string& job_id,
                             int64_t after_sequence, grpc::ServerWriter<v1::JobEvent>* writer) {
  // Registering before the first read means a notification that arrives between the read and the
  // wait still wakes the wait.
  WatchRegistration registration(context.events, job_id);
  absl::Time next_poll = absl::InfinitePast();

  while (true) {
    // The state is read before the events, so once it is terminal the events read next include
    // the terminal transition.
    REFTUNE_ASSIGN_OR_RETURN(store::JobRecord job, context.jobs.GetJob(tenant_id, job_id));
    REFTUNE_RETURN_IF_ERROR(
        SendNewEvents(context, tenant_id, job_id, &after_sequence, writer, call));
    if (jobs::IsTerminal(job.state)) return absl::OkStatus();
    next_poll = absl::Now() + context.options.watch_poll_interval;

    // Wait for a notification in short slices, so a cancelled call or a passed deadline ends the
    // stream promptly instead of at the next event.
    while (absl::Now() < next_poll) {
      if (call.IsCancelled()) return CallEnded(call, job_id);
      const uint64_t count = context.events->WaitForChange(
          job_id, registration.seen_, context.options.watch_cancel_check_interval);
      if (count != registration.seen_) {
        registration.seen_ = count;
        break;
      }
    }
  }
}

}  // namespace reftune::gateway
