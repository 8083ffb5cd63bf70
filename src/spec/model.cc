#include "spec/model.h"

namespace hubspoke::spec {

std::string Pos::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

const Template* Workflow::FindTemplate(const std::string& name) const {
  for (const Template& t : spec.templates) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string Workflow::DisplayName() const {
  return metadata.name.empty() ? metadata.generate_name : metadata.name;
}

}  // namespace hubspoke::spec
