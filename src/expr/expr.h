// Argo's expression languages, free of I/O:
//  - `{{name}}` substitution of variables and `{{= expr }}` (expr dialect) inside text;
//  - `when` conditions (govaluate dialect: substitute first, then evaluate; bare words are
//  strings);
//  - `depends` expressions of DAG tasks ("A && (B.Succeeded || C.Failed)");
//  - resource conditions ("status.phase == Succeeded", "status.phase in (Failed, Error)");
//  - kubectl JSONPath ("{.status.outputs.parameters[?(@.name=="x")].value}");
//  - helpers for loop items (withItems / withParam / withSequence).
// JSON values cross this API as compact JSON text so callers need no JSON library.
// Thread-safety: pure functions; a Scope must not change while a call reads it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace hubspoke::expr {

// The value of a variable that the expr dialect sees as something other than text: nil, or a
// time (Argo's cronworkflow.lastScheduledTime is a time.Time, nil before the first run).
struct TypedValue {
  static TypedValue Nil() { return {}; }
  static TypedValue Time(Micros t) { return {false, t}; }
  bool nil = true;
  Micros time = 0;  // when not nil: microseconds since the Unix epoch
};

// Variables visible to substitution, e.g. "inputs.parameters.repo", "item", "item.name",
// "steps.discover.outputs.result", "workflow.name". Values are text as Argo substitutes them.
class Scope {
 public:
  virtual ~Scope() = default;
  virtual std::optional<std::string> Lookup(std::string_view name) const = 0;
  // Typed variables of the expr dialect (`{{= ...}}`), looked up before Lookup there; plain
  // `{{name}}` substitution and govaluate `when` see only Lookup. None by default.
  virtual std::optional<TypedValue> LookupTyped(std::string_view /*name*/) const {
    return std::nullopt;
  }
  // The clock expr's now() reads. nullptr (the default): now() is an error, so that expressions
  // stay deterministic where the caller has no notion of the current time (the engine).
  virtual const Clock* clock() const { return nullptr; }
};

// Replaces every `{{ name }}` (spaces around name allowed) with its value and every `{{= expr }}`
// with the expression's result (strings as-is, other values as JSON). With allow_unresolved, an
// unknown name leaves the `{{...}}` text untouched; without it, the first unknown name is an error
// "failed to resolve {{name}}". Malformed `{{` without `}}` is kept as text.
Result<std::string> Substitute(std::string_view text, const Scope& scope, bool allow_unresolved);

// True when `text` contains `{{`.
bool HasPlaceholders(std::string_view text);

// Evaluates an Argo `when` condition that has already been substituted: govaluate syntax, where
// unquoted words are strings ("tails == heads" is false). Errors quote the expression.
Result<bool> EvaluateWhen(std::string_view condition);

// Evaluates an expr-dialect expression (`{{= ...}}`, `valueFrom.expression`, retry expression)
// against the scope; the result is JSON text ("\"x\"", "3", "true", "[1,2]").
// Times and durations as expr-lang has them: now() (from scope.clock()), date("RFC 3339"),
// duration("1h30m"), time - time = duration, time +/- duration = time, comparisons, and the
// methods .Hours() .Minutes() .Seconds() (floats), .Milliseconds() of durations and .Unix() of
// times. A time in the result reads as RFC 3339 text, a duration as its nanoseconds (as Go's
// JSON encoding writes them).
// Variables with dots (inputs.parameters.x) resolve through the scope; values that parse as JSON
// numbers or booleans stay strings unless passed through asInt/asFloat/fromJSON.
Result<std::string> EvaluateExpr(std::string_view expression, const Scope& scope);

// Result of a DAG task as `depends` sees it.
struct TaskState {
  bool exists = false;  // the task's node was created
  std::string phase;    // "Succeeded", "Failed", "Error", "Skipped", "Omitted", "" (not yet)
  bool daemoned = false;
  bool any_succeeded = false;  // for loops: at least one child Succeeded
  bool all_failed = false;     // for loops: every child Failed
};
// Evaluates a `depends` expression; `task` reports the state of a named task. A bare name A means
// (A.Succeeded || A.Skipped || A.Daemoned). Errors for unknown result words.
Result<bool> EvaluateDepends(std::string_view depends,
                             const std::function<TaskState(std::string_view)>& task);
// The task names a `depends` expression refers to, in order of first appearance.
Result<std::vector<std::string>> DependsTasks(std::string_view depends);

// Evaluates a resource success/failure condition against a JSON document (the child Workflow).
// Comma-separated requirements are ANDed; each is `path == v`, `path != v`, `path in (a, b)`,
// `path notin (a, b)`, `path > n`, `path < n`, where path is dotted into the document.
Result<bool> EvaluateResourceCondition(std::string_view condition, std::string_view json_document);

// kubectl JSONPath with `{...}` templates, `.a.b`, `[n]`, `[*]`, `..`, `[?(@.k=="v")]` filters
// (conditions may be combined with `&&`, `||`, `!` and parentheses).
// Several results are joined with spaces, as kubectl prints them; strings are raw, others JSON.
Result<std::string> JsonPath(std::string_view json_document, std::string_view path);

// Loop items, each as compact JSON text ("\"a\"", "3", "{\"k\":\"v\"}").
// Parses a JSON list (withParam after substitution, withItems as loaded). A value that is not a
// JSON list is an error whose message quotes the start of the value.
Result<std::vector<std::string>> ParseItems(std::string_view json_list);
// withSequence after substitution: count or start/end (both inclusive, descending allowed),
// each item formatted with printf-style `format` (default "%d").
Result<std::vector<std::string>> SequenceItems(std::string_view count, std::string_view start,
                                               std::string_view end, std::string_view format);
// The text `{{item}}` becomes: strings raw, numbers/bools as written, objects/lists as JSON.
std::string ItemText(std::string_view item_json);
// Adds `prefix` and `prefix.<key>` entries (flattened one level, values via ItemText) for an item.
void FlattenItem(std::string_view prefix, std::string_view item_json,
                 const std::function<void(std::string, std::string)>& add);
// How an item appears in node names: scalars as text, maps as "k1:v1,k2:v2" sorted by key.
std::string ItemDisplay(std::string_view item_json);

// Aggregates loop outputs as Argo does: a JSON list of values, each parsed as JSON when it is
// JSON and kept as a string otherwise.
std::string AggregateList(const std::vector<std::string>& values);
// JSON list of objects {"name": "value", ...} (values stay strings), one per child parameter
// list in order; empty lists are skipped, as Argo lists only children that have output parameters.
std::string AggregateParameters(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& rows);

// Quotes text as a JSON string.
std::string JsonQuote(std::string_view text);

}  // namespace hubspoke::expr
