// VarScope: the variables visible to `{{...}}` substitution at one point of a workflow, layered
// over a parent scope (workflow globals < template inputs < loop item).
// Thread-safety: none; owned by the engine thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "expr/expr.h"

namespace hubspoke::engine {

class VarScope final : public expr::Scope {
 public:
  explicit VarScope(const expr::Scope* parent) : parent_(parent) {}

  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

  std::optional<std::string> Lookup(std::string_view name) const override {
    auto it = vars_.find(name);
    if (it != vars_.end()) return it->second;
    return parent_ ? parent_->Lookup(name) : std::nullopt;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const expr::Scope* parent_;
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> vars_;
};

}  // namespace hubspoke::engine
