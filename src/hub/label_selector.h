// Kubernetes label selectors as `argo list -l` and Argo Server's listOptions.labelSelector take
// them: comma-separated requirements that must all hold — `k=v`, `k==v`, `k!=v`, `k`, `!k`,
// `k in (a,b)`, `k notin (a,b)`. A `!=` or `notin` requirement also holds when the label is absent.
// Thread-safety: a parsed LabelSelector is immutable; Parse is a pure function.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hubspoke::hub {

class LabelSelector {
 public:
  // "" selects everything. Errors (InvalidArgument) name the requirement that does not parse.
  static Result<LabelSelector> Parse(std::string_view text);

  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }

 private:
  struct Requirement {
    enum class Op { kIn, kNotIn, kExists, kNotExists };
    std::string key;
    Op op = Op::kExists;
    std::vector<std::string> values;  // kIn, kNotIn (`=` is `in` with one value)
  };
  std::vector<Requirement> requirements_;
};

}  // namespace hubspoke::hub
