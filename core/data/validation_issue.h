// One problem or warning found in a dataset, located by line and field.
#ifndef REFTUNE_CORE_DATA_VALIDATION_ISSUE_H_
#define REFTUNE_CORE_DATA_VALIDATION_ISSUE_H_

#include <cstdint>
#include <string>

namespace reftune::data {

struct ValidationIssue {
  // 1-based line in the uploaded file; 0 for problems of the whole file (total size).
  int64_t line = 0;
  // JSON path of the offending field, for example "messages[2].role", or "(record)" for the
  // record as a whole and "(file)" for the file.
  std::string field;
  // Description of the problem, naming the value received and what was expected.
  std::string message;
};

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_VALIDATION_ISSUE_H_
