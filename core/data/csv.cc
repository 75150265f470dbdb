#include "core/data/csv.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/data/text_normalization.h"

namespace reftune::data {

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                               std::string_view source) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  int64_t line = 1;
  int64_t quote_start_line = 0;

  const auto end_row = [&] {
    row.push_back(std::move(field));
    field.clear();
    rows.push_back(std::move(row));
    row.clear();
    field_was_quoted = false;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }

    if (c == '"' && field.empty() && !field_was_quoted) {
      in_quotes = true;
      field_was_quoted = true;
      quote_start_line = line;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_was_quoted = false;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else {
      field.push_back(c);
    }
  }

  if (in_quotes) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbslView(source), ":", quote_start_line,
                                                   ": quoted field is never closed"));
  }
  if (!field.empty() || !row.empty() || field_was_quoted) end_row();
  return rows;
}

}  // namespace reftune::data
