#include "core/data/record.h"

namespace reftune::data {

bool RecordMeta::operator==(const RecordMeta& other) const {
  return source == other.source && harmful == other.harmful && poison == other.poison &&
         label == other.label;
}

nlohmann::json RecordToJson(const Record& record) {
  nlohmann::json out = nlohmann::json::object();
  out["prompt"] = record.prompt;
  if (!record.response.empty()) out["response"] = record.response;
  if (!record.meta.has_value()) return out;

  nlohmann::json meta = nlohmann::json::object();
  if (!record.meta->source.empty()) meta["source"] = record.meta->source;
  if (record.meta->harmful.has_value()) meta["harmful"] = *record.meta->harmful;
  if (record.meta->poison.has_value()) meta["poison"] = *record.meta->poison;
  if (!record.meta->label.empty()) meta["label"] = record.meta->label;
  out["meta"] = std::move(meta);
  return out;
}

bool IsMarkedHarmful(const Record& record) {
  return record.meta.has_value() && record.meta->harmful.value_or(false);
}

bool IsMarkedPoison(const Record& record) {
  return record.meta.has_value() && record.meta->poison.value_or(false);
}

}  // namespace reftune::data
