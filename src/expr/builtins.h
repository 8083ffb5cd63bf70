// Private: the functions an expr-dialect expression may call (expr's own, Argo's asInt / asFloat /
// toJson / jsonpath, and a `sprig.*` subset), plus the value conversions they share with the
// evaluator. Closure functions (filter, map, all, ...) live in the evaluator.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "expr/json_util.h"

namespace hubspoke::expr::internal {

// Calls function `name` with evaluated arguments (which it may convert in place). nullopt when
// there is no such function; errors carry no position (the caller adds it).
std::optional<Result<Json>> CallFunction(std::string_view name, std::vector<Json>& args);

// Integer value of a number (floats truncated), a numeric string or nothing.
std::optional<int64_t> ToInt(const Json& value);
// Floating value of a number or a numeric string.
std::optional<double> ToDouble(const Json& value);
// A bool, or the strings "true"/"false" (scope values are strings).
std::optional<bool> ToBool(const Json& value);
// An array, or a string holding a JSON array.
std::optional<Json> ToList(const Json& value);

}  // namespace hubspoke::expr::internal
