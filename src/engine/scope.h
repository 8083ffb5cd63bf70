// VarScope: the variables visible to `{{...}}` substitution at one point of a workflow, layered
// over a parent scope (workflow globals < template inputs < loop item).
// Thread-safety: none; owned by the engine thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "expr/expr.h"

namespace hubspoke::engine {

class VarScope final : public expr::Scope {
 public:
  explicit VarScope(const expr::Scope* parent) : parent_(parent) {}

  void Set(std::string name, std::string value) {
    if (large_) {
      (*large_)[std::move(name)] = std::move(value);
      return;
    }
    for (auto& [k, v] : small_) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    small_.emplace_back(std::move(name), std::move(value));
    if (small_.size() > kSmall) {
      large_ = std::make_unique<Map>();
      for (auto& [k, v] : small_) (*large_)[std::move(k)] = std::move(v);
      small_ = {};
    }
  }

  std::optional<std::string> Lookup(std::string_view name) const override {
    if (large_) {
      auto it = large_->find(name);
      if (it != large_->end()) return it->second;
    } else {
      for (const auto& [k, v] : small_) {
        if (k == name) return v;
      }
    }
    return parent_ ? parent_->Lookup(name) : std::nullopt;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::string, Hash, std::equal_to<>>;
  // Most scopes are a task's: a handful of variables, kept in a vector searched in order (every
  // node of a fan-out has one, and a hash map costs a bucket array and a node per entry). A scope
  // that grows past kSmall, such as a steps template's with its children's outputs, moves to a
  // hash map.
  static constexpr size_t kSmall = 12;
  const expr::Scope* parent_;
  std::vector<std::pair<std::string, std::string>> small_;
  std::unique_ptr<Map> large_;
};

}  // namespace hubspoke::engine
