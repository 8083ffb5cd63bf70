// Private: the JSONPath engine behind the public JsonPath() (kubectl templates) and the expr
// function jsonpath(doc, '$.path'). Paths: `$`/`@` roots, `.name`, `['name']`, `[n]`, `[-n]`,
// `[a:b]`, `[n,m]`, `*`, `..`, filters `[?(@.k op literal)]`, `[?(@.k)]` combined with
// `&&`, `||`, `!` and parentheses.
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "expr/json_util.h"

namespace hubspoke::expr::internal {

// Nodes selected by `path` (relative to `current`; `$` restarts at `root`). `definite` is set to
// false when the path can select several nodes (wildcards, `..`, filters, slices, unions).
Result<std::vector<const Json*>> SelectPath(const Json& root, const Json& current,
                                            std::string_view path, bool* definite);

// jsonpath() for expressions: the single node of a definite path (an error when missing), else a
// list of the selected nodes.
Result<Json> QueryJsonPath(const Json& document, std::string_view path);

}  // namespace hubspoke::expr::internal
