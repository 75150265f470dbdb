// The WatchJob stream: the job's log after a sequence number, then new events as workers write
// them, until the job finishes or the call ends.
#ifndef REFTUNE_SERVICES_GATEWAY_JOB_WATCH_H_
#define REFTUNE_SERVICES_GATEWAY_JOB_WATCH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "reftune/v1/jobs.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

// Sends events with a sequence above `after_sequence`, waking on the event hub's notifications
// and re-reading every watch_poll_interval. Returns OK once the terminal state's event was sent,
// CANCELLED when the client went away, DEADLINE_EXCEEDED when the call's deadline passed.
absl::Status StreamJobEvents(GatewayContext& context, grpc::ServerContext& call,
                             const std::string& tenant_id, const std::string& job_id,
                             int64_t after_sequence, grpc::ServerWriter<v1::JobEvent>* writer);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_JOB_WATCH_H_
