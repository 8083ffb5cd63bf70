// Test helper: a Scope backed by a map. Thread-safety: none needed (tests only).
#pragma once

#include <map>
#include <string>

#include "expr/expr.h"

namespace hubspoke::expr {

class MapScope : public Scope {
 public:
  MapScope(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  std::optional<std::string> Lookup(std::string_view name) const override {
    auto it = values_.find(std::string(name));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace hubspoke::expr
