// Test helpers: a Scope backed by a map, and expr-dialect evaluation that expects success or
// failure. Thread-safety: none needed (tests only).
#pragma once

#include <gtest/gtest.h>

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

// The JSON result of `expression`, or "<error>" after a failed expectation.
inline std::string EvalIn(const Scope& scope, std::string_view expression) {
  auto result = EvaluateExpr(expression, scope);
  EXPECT_TRUE(result.ok()) << expression << ": " << result.error().message;
  return result.ok() ? *result : "<error>";
}

// The error message of `expression`, or "" after a failed expectation.
inline std::string EvalErrorIn(const Scope& scope, std::string_view expression) {
  auto result = EvaluateExpr(expression, scope);
  EXPECT_FALSE(result.ok()) << expression << " gave " << (result.ok() ? *result : "");
  return result.ok() ? "" : result.error().message;
}

}  // namespace hubspoke::expr
