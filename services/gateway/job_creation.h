// Builds a job's stored configuration from a request: checks every field, resolves the base
// model, datasets and teacher, and runs the token-length check.
#ifndef REFTUNE_SERVICES_GATEWAY_JOB_CREATION_H_
#define REFTUNE_SERVICES_GATEWAY_JOB_CREATION_H_

#include "absl/status/statusor.h"
#include "core/store/job_store.h"
#include "core/store/tenant_store.h"
#include "reftune/v1/customer_service.pb.h"
#include "reftune/v1/operator_service.pb.h"
#include "services/gateway/gateway_context.h"

namespace reftune::gateway {

// INVALID_ARGUMENT with a BadRequest listing every invalid field (or every overlong record when
// overlong_records is REJECT); NOT_FOUND for an unknown dataset; FAILED_PRECONDITION when the
// safety mode needs a teacher and the base model has no active one.
absl::StatusOr<store::NewJob> PrepareCustomerJob(GatewayContext& context,
                                                 const store::Principal& principal,
                                                 const v1::CreateJobRequest& request);

// The same for an operator's teacher-training job.
absl::StatusOr<store::NewJob> PrepareTeacherJob(GatewayContext& context,
                                                const store::Principal& principal,
                                                const v1::CreateTeacherJobRequest& request);

}  // namespace reftune::gateway

#endif  // REFTUNE_SERVICES_GATEWAY_JOB_CREATION_H_
