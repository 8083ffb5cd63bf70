// Private: the expr-dialect evaluator with the extra signal Substitute needs (whether a failure
// came from a variable the scope does not know). Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "common/error.h"
#include "expr/expr.h"
#include "expr/json_util.h"

namespace hubspoke::expr::internal {

// Evaluates `expression`; on failure `*unresolved` tells whether an unknown variable caused it.
Result<Json> EvaluateExprValue(std::string_view expression, const Scope& scope, bool* unresolved);

}  // namespace hubspoke::expr::internal
