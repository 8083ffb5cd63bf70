// Private helpers shared by the src/expr .cc files: bounded JSON parsing, printing that never
// throws, and the error text every evaluator uses. Not part of the public API (nlohmann stays out
// of expr.h). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hubspoke::expr::internal {

using Json = nlohmann::json;

// Deepest nesting the parsers accept (parentheses, unary chains, sub-expressions).
inline constexpr int kMaxNesting = 200;
// Deepest syntax tree the evaluators walk (long left-associated chains count too).
inline constexpr int kMaxTreeDepth = 1000;
// Deepest JSON document accepted from outside.
inline constexpr int kMaxJsonDepth = 512;
// Most elements a generated list (ranges, sequences) may have.
inline constexpr int64_t kMaxGeneratedItems = 1000000;
// Most work (evaluation steps, selected JSON nodes, loop iterations) one call may do, so that
// no input can make a call run for minutes or exhaust memory.
inline constexpr size_t kMaxWork = 5000000;

// Times (Unix nanoseconds) and durations (nanoseconds) of the expr dialect travel as JSON
// binary values with their own subtypes, which JSON text never produces, so no string or map
// can be mistaken for one. Dump writes a time as its RFC 3339 text, a duration as its
// nanoseconds; PlainTimes rewrites them so for values leaving the evaluator.
Json TimeJson(int64_t unix_nanos);
Json DurationJson(int64_t nanos);
std::optional<int64_t> TimeNanos(const Json& value);
std::optional<int64_t> DurationNanos(const Json& value);
void PlainTimes(Json* value);

// Parses JSON text; nullopt when it is not JSON or nests deeper than kMaxJsonDepth.
std::optional<Json> ParseJson(std::string_view text);

// Compact JSON; invalid UTF-8 is replaced instead of throwing.
std::string Dump(const Json& value);

// How a value reads as text in Argo: strings raw, everything else as compact JSON.
std::string Text(const Json& value);

// "string", "int", "float", "bool", "nil", "array", "map", "time.Time", "time.Duration".
std::string TypeName(const Json& value);

// The value as int64 when it is an integer that fits.
std::optional<int64_t> Int64Of(const Json& value);

// The start of `text`, at most `max` bytes, with "..." when cut.
std::string Excerpt(std::string_view text, size_t max = 64);

// "<what> '<source>': <message> at column <pos + 1>".
std::string DescribeError(std::string_view what, std::string_view source, std::string_view message,
                          size_t pos);

// Number of UTF-8 code points in `text` (invalid bytes count as one each).
size_t CodePointCount(std::string_view text);

// Regular-expression search (RE2-like syntax through ECMAScript); nullopt plus `error` when the
// pattern is invalid or the subject too long to match safely.
std::optional<bool> RegexSearch(const std::string& subject, const std::string& pattern,
                                std::string* error);

}  // namespace hubspoke::expr::internal
