#include "expr/builtins.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "expr/go_time.h"
#include "expr/jsonpath.h"

namespace hubspoke::expr::internal {
namespace {

using Args = std::vector<Json>;
using Function = Result<Json> (*)(Args&);

Error Bad(std::string message) { return InvalidArgument(std::move(message)); }

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string TrimSet(std::string_view s, std::string_view cutset, bool left, bool right) {
  while (left && !s.empty() && cutset.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (right && !s.empty() && cutset.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Title(std::string s) {
  bool start = true;
  for (char& c : s) {
    if (start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start = IsSpace(c);
  }
  return s;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  size_t i = 0;
  for (size_t hit; (hit = s.find(from, i)) != std::string::npos; i = hit + from.size()) {
    out.append(s, i, hit - i);
    out.append(to);
  }
  out.append(s, i, std::string::npos);
  return out;
}

// Splits like Go's strings.SplitN (n < 0: no limit; empty separator: one piece per byte).
std::vector<std::string> Split(std::string_view s, std::string_view sep, int64_t n = -1) {
  std::vector<std::string> parts;
  if (n == 0) return parts;
  if (sep.empty()) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (n > 0 && static_cast<int64_t>(parts.size()) == n - 1) {
        parts.emplace_back(s.substr(i));
        return parts;
      }
      parts.emplace_back(s.substr(i, 1));
    }
    return parts;
  }
  size_t i = 0;
  while (n < 0 || static_cast<int64_t>(parts.size()) < n - 1) {
    size_t hit = s.find(sep, i);
    if (hit == std::string_view::npos) break;
    parts.emplace_back(s.substr(i, hit - i));
    i = hit + sep.size();
  }
  parts.emplace_back(s.substr(i));
  return parts;
}

Json StringList(const std::vector<std::string>& parts) {
  Json list = Json::array();
  for (const std::string& p : parts) list.push_back(p);
  return list;
}

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64[(v >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kBase64.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// Go's notion of an empty value, as sprig's `default` and `empty` use it.
bool IsEmpty(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v.get<double>() == 0;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  return v.empty();
}

// Converts arguments in place to what `signature` asks, one letter per argument:
// s string (scalars as text), i integer, n number, l list, m map, a anything; letters after
// '?' are optional; a letter followed by '*' stands for any number (zero included) of further
// arguments of that type.
Status Conform(std::string_view name, std::string_view signature, Args& args) {
  std::string types;
  size_t required = 0;
  bool optional = false;
  bool variadic = false;
  for (size_t k = 0; k < signature.size(); ++k) {
    char c = signature[k];
    if (c == '?') {
      optional = true;
    } else if (k + 1 < signature.size() && signature[k + 1] == '*') {
      variadic = true;
      types += c;
      ++k;
    } else if (c != '*') {
      types += c;
      if (!optional) ++required;
    }
  }
  if (args.size() < required || (!variadic && args.size() > types.size())) {
    std::string expected = std::to_string(required);
    if (variadic) {
      expected = "at least " + expected;
    } else if (types.size() != required) {
      expected += " to " + std::to_string(types.size());
    }
    return Bad(std::string(name) + "() expects " + expected + " argument(s), got " +
               std::to_string(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    Json& a = args[i];
    char type = types[std::min(i, types.size() - 1)];
    const char* want = nullptr;
    if (type == 's') {
      if (a.is_structured()) {
        want = "a string";
      } else if (!a.is_string()) {
        a = a.is_null() ? std::string() : Text(a);
      }
    } else if (type == 'i') {
      if (auto v = ToInt(a)) {
        a = *v;
      } else {
        want = "an integer";
      }
    } else if (type == 'n') {
      if (auto v = ToDouble(a)) {
        a = *v;
      } else {
        want = "a number";
      }
    } else if (type == 'l') {
      if (auto v = ToList(a)) {
        a = std::move(*v);
      } else {
        want = "a list";
      }
    } else if (type == 'm') {
      if (a.is_string()) {
        if (auto v = ParseJson(a.get_ref<const std::string&>()); v && v->is_object()) a = *v;
      }
      if (!a.is_object()) want = "a map";
    }
    if (want != nullptr) {
      return Bad(std::string(name) + "() argument " + std::to_string(i + 1) + " must be " + want +
                 ", got " + TypeName(a) + " '" + Excerpt(Text(a), 32) + "'");
    }
  }
  return {};
}

const std::string& S(const Json& v) { return v.get_ref<const std::string&>(); }
int64_t I(const Json& v) { return v.get<int64_t>(); }

Result<Json> Len(Args& a) {
  if (a[0].is_string()) return Json(static_cast<int64_t>(CodePointCount(S(a[0]))));
  if (a[0].is_structured()) return Json(static_cast<int64_t>(a[0].size()));
  return Bad("len() needs a string, list or map, got " + TypeName(a[0]));
}

Result<Json> Join(const Json& list, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += sep;
    out += Text(list[i]);
  }
  return Json(out);
}

Result<Json> Extreme(Args& a, bool max) {
  Json values = a.size() == 1 && a[0].is_array() ? a[0] : Json(a);
  if (values.empty()) return Bad(std::string(max ? "max" : "min") + "() of nothing");
  const Json* best = nullptr;
  for (const Json& v : values) {
    if (!v.is_number()) return Bad(std::string(max ? "max" : "min") + "() needs numbers");
    if (best == nullptr ||
        (max ? v.get<double>() > best->get<double>() : v.get<double>() < best->get<double>())) {
      best = &v;
    }
  }
  return *best;
}

// One step of sprig's integer arithmetic; errors instead of wrapping around or trapping.
Result<int64_t> IntStep(int64_t x, int64_t y, char op) {
  int64_t r = 0;
  bool overflow = false;
  switch (op) {
    case '+':
      overflow = __builtin_add_overflow(x, y, &r);
      break;
    case '-':
      overflow = __builtin_sub_overflow(x, y, &r);
      break;
    case '*':
      overflow = __builtin_mul_overflow(x, y, &r);
      break;
    default:
      if (y == 0) return Bad("integer divide by zero");
      if (y == -1 && op == '%') {
        r = 0;  // x % -1 traps for the smallest int64 in C++
      } else if (y == -1) {
        overflow = __builtin_sub_overflow(int64_t{0}, x, &r);
      } else {
        r = op == '/' ? x / y : x % y;
      }
  }
  if (overflow) return Bad("integer overflow");
  return r;
}

// sprig's add, sub, mul, div, mod: the integer arguments folded left to right (no arguments: 0).
Result<Json> IntArithmetic(Args& a, char op) {
  int64_t r = a.empty() ? 0 : I(a[0]);
  for (size_t k = 1; k < a.size(); ++k) {
    auto step = IntStep(r, I(a[k]), op);
    if (!step.ok()) return step.error();
    r = *step;
  }
  return Json(r);
}

// sprig's addf, subf, mulf, divf: the number arguments folded left to right (no arguments: 0).
// sprig computes with exact decimals; rounding sums, differences and products to 15 significant
// digits gives the same result for inputs written with few digits (addf(0.1, 0.2) is 0.3).
Result<Json> FloatArithmetic(Args& a, char op) {
  double r = a.empty() ? 0 : a[0].get<double>();
  for (size_t k = 1; k < a.size(); ++k) {
    double y = a[k].get<double>();
    if (op == '/' && y == 0) return Bad("sprig.divf(): division by zero");
    r = op == '+' ? r + y : op == '-' ? r - y : op == '*' ? r * y : r / y;
  }
  if (op != '/' && std::isfinite(r)) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", r);
    r = std::strtod(text, nullptr);
  }
  return Json(r);
}

Result<Json> Quote(Args& a, char quote) {
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_null()) continue;
    if (!out.empty()) out += ' ';
    std::string text = Text(a[i]);
    out += quote == '"' ? Dump(Json(text)) : "'" + text + "'";
  }
  return Json(out);
}

Result<Json> FromJson(Args& a) {
  auto v = ParseJson(S(a[0]));
  if (!v) return Bad("fromJSON(): not JSON: '" + Excerpt(S(a[0])) + "'");
  return *v;
}

Result<Json> JsonPathFunction(Args& a) {
  Json document;
  if (a[0].is_string()) {
    auto parsed = ParseJson(S(a[0]));
    if (!parsed) return Bad("jsonpath(): first argument is not JSON: '" + Excerpt(S(a[0])) + "'");
    document = std::move(*parsed);
  } else {
    document = a[0];
  }
  return QueryJsonPath(document, S(a[1]));
}

// sprig.date(layout, time). sprig formats a Go time.Time or Unix seconds, and formats the
// current time for anything else, strings included. Argo passes `workflow.creationTimestamp` as
// an RFC 3339 string, so such strings are parsed instead (the same instant, up to a second, as
// sprig's "now" while the workflow starts), and other values are errors: expressions stay
// deterministic. Times are formatted in UTC (sprig uses the controller's local zone).
Result<Json> Date(Args& a) {
  // Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
  constexpr int64_t kFirst = -62167219200;
  constexpr int64_t kLast = 253402300799;
  std::optional<Instant> time;
  if (auto seconds = Int64Of(a[1]); seconds && *seconds >= kFirst && *seconds <= kLast) {
    time = Instant{*seconds, 0};
  } else if (a[1].is_string()) {
    time = ParseRfc3339(S(a[1]));
  }
  if (!time) {
    return Bad("sprig.date() argument 2 must be an RFC 3339 time or Unix seconds, got " +
               TypeName(a[1]) + " '" + Excerpt(Text(a[1]), 32) + "'");
  }
  return Json(FormatGoLayout(S(a[0]), *time));
}

// expr's date(text): a time from RFC 3339 text. Layouts and time zones (further arguments in
// expr) are not offered.
Result<Json> ParseDate(Args& a) {
  if (a.size() > 1) return Bad("date() with a layout is not supported: give an RFC 3339 time");
  std::optional<Instant> t = ParseRfc3339(S(a[0]));
  int64_t nanos = 0;
  if (!t || __builtin_mul_overflow(t->seconds, int64_t{1'000'000'000}, &nanos) ||
      __builtin_add_overflow(nanos, int64_t{t->nanos}, &nanos)) {
    return Bad("date() needs an RFC 3339 time between the years 1678 and 2262, got '" +
               Excerpt(S(a[0]), 32) + "'");
  }
  return TimeJson(nanos);
}

// expr's duration(text), as Go's time.ParseDuration reads it.
Result<Json> ParseDuration(Args& a) {
  std::optional<int64_t> nanos = ParseGoDuration(S(a[0]));
  if (!nanos)
    return Bad("duration() needs a Go duration such as 1h30m, got '" + Excerpt(S(a[0]), 32) + "'");
  return DurationJson(*nanos);
}

struct Entry {
  std::string_view name;
  std::string_view signature;
  Function function;
};

// clang-format off
constexpr Entry kFunctions[] = {
    // expr's own functions.
    {"len", "a", Len},
    {"lower", "s", [](Args& a) -> Result<Json> { return Json(Lower(S(a[0]))); }},
    {"upper", "s", [](Args& a) -> Result<Json> { return Json(Upper(S(a[0]))); }},
    {"trim", "s?s", [](Args& a) -> Result<Json> {
       return Json(a.size() > 1 ? TrimSet(S(a[0]), S(a[1]), true, true)
                                : std::string(TrimSpace(S(a[0]))));
     }},
    {"trimPrefix", "ss", [](Args& a) -> Result<Json> {
       std::string_view s = S(a[0]);
       return Json(std::string(s.substr(s.rfind(S(a[1]), 0) == 0 ? S(a[1]).size() : 0)));
     }},
    {"trimSuffix", "ss", [](Args& a) -> Result<Json> {
       std::string_view s = S(a[0]);
       if (s.ends_with(S(a[1]))) s.remove_suffix(S(a[1]).size());
       return Json(std::string(s));
     }},
    {"split", "ss?i", [](Args& a) -> Result<Json> {
       return StringList(Split(S(a[0]), S(a[1]), a.size() > 2 ? I(a[2]) : -1));
     }},
    {"join", "l?s", [](Args& a) -> Result<Json> { return Join(a[0], a.size() > 1 ? S(a[1]) : ""); }},
    {"replace", "sss", [](Args& a) -> Result<Json> {
       return Json(ReplaceAll(S(a[0]), S(a[1]), S(a[2])));
     }},
    {"repeat", "si", [](Args& a) -> Result<Json> {
       if (I(a[1]) < 0 || static_cast<double>(I(a[1])) * S(a[0]).size() > 1e7) {
         return Bad("repeat(): count out of range");
       }
       std::string out;
       for (int64_t k = 0; k < I(a[1]); ++k) out += S(a[0]);
       return Json(out);
     }},
    {"indexOf", "ss", [](Args& a) -> Result<Json> {
       size_t at = S(a[0]).find(S(a[1]));
       return Json(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(at));
     }},
    {"lastIndexOf", "ss", [](Args& a) -> Result<Json> {
       size_t at = S(a[0]).rfind(S(a[1]));
       return Json(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(at));
     }},
    {"hasPrefix", "ss", [](Args& a) -> Result<Json> { return Json(S(a[0]).starts_with(S(a[1]))); }},
    {"hasSuffix", "ss", [](Args& a) -> Result<Json> { return Json(S(a[0]).ends_with(S(a[1]))); }},
    {"string", "a", [](Args& a) -> Result<Json> { return Json(Text(a[0])); }},
    {"int", "i", [](Args& a) -> Result<Json> { return a[0]; }},
    {"float", "n", [](Args& a) -> Result<Json> { return a[0]; }},
    {"abs", "a", [](Args& a) -> Result<Json> {
       if (auto i = Int64Of(a[0]); i && *i != std::numeric_limits<int64_t>::min()) {
         return Json(*i < 0 ? -*i : *i);
       }
       if (!a[0].is_number()) return Bad("abs() needs a number, got " + TypeName(a[0]));
       return Json(std::fabs(a[0].get<double>()));
     }},
    {"max", "aa*", [](Args& a) { return Extreme(a, true); }},
    {"min", "aa*", [](Args& a) { return Extreme(a, false); }},
    {"ceil", "n", [](Args& a) -> Result<Json> { return Json(std::ceil(a[0].get<double>())); }},
    {"floor", "n", [](Args& a) -> Result<Json> { return Json(std::floor(a[0].get<double>())); }},
    {"round", "n", [](Args& a) -> Result<Json> { return Json(std::round(a[0].get<double>())); }},
    {"keys", "m", [](Args& a) -> Result<Json> {
       Json out = Json::array();
       for (const auto& [k, v] : a[0].items()) out.push_back(k);
       return out;
     }},
    {"values", "m", [](Args& a) -> Result<Json> {
       Json out = Json::array();
       for (const auto& [k, v] : a[0].items()) out.push_back(v);
       return out;
     }},
    {"first", "l", [](Args& a) -> Result<Json> { return a[0].empty() ? Json() : a[0].front(); }},
    {"last", "l", [](Args& a) -> Result<Json> { return a[0].empty() ? Json() : a[0].back(); }},
    {"reverse", "l", [](Args& a) -> Result<Json> {
       std::reverse(a[0].begin(), a[0].end());
       return a[0];
     }},
    {"date", "s?ss", ParseDate},
    {"duration", "s", ParseDuration},
    {"toJSON", "a", [](Args& a) -> Result<Json> { return Json(Dump(a[0])); }},
    {"fromJSON", "s", FromJson},
    {"toBase64", "s", [](Args& a) -> Result<Json> { return Json(Base64Encode(S(a[0]))); }},
    {"fromBase64", "s", [](Args& a) -> Result<Json> {
       auto decoded = Base64Decode(S(a[0]));
       if (!decoded) return Bad("fromBase64(): invalid base64");
       return Json(*decoded);
     }},
    // Argo's additions.
    {"asInt", "i", [](Args& a) -> Result<Json> { return a[0]; }},
    {"asFloat", "n", [](Args& a) -> Result<Json> { return a[0]; }},
    {"toJson", "a", [](Args& a) -> Result<Json> { return Json(Dump(a[0])); }},
    {"fromJson", "s", FromJson},
    {"jsonpath", "as", JsonPathFunction},
    // sprig, with its argument order (the string operated on comes last).
    {"sprig.trim", "s", [](Args& a) -> Result<Json> { return Json(std::string(TrimSpace(S(a[0])))); }},
    {"sprig.trimAll", "ss", [](Args& a) -> Result<Json> {
       return Json(TrimSet(S(a[1]), S(a[0]), true, true));
     }},
    {"sprig.trimPrefix", "ss", [](Args& a) -> Result<Json> {
       std::string_view s = S(a[1]);
       if (s.starts_with(S(a[0]))) s.remove_prefix(S(a[0]).size());
       return Json(std::string(s));
     }},
    {"sprig.trimSuffix", "ss", [](Args& a) -> Result<Json> {
       std::string_view s = S(a[1]);
       if (s.ends_with(S(a[0]))) s.remove_suffix(S(a[0]).size());
       return Json(std::string(s));
     }},
    {"sprig.upper", "s", [](Args& a) -> Result<Json> { return Json(Upper(S(a[0]))); }},
    {"sprig.lower", "s", [](Args& a) -> Result<Json> { return Json(Lower(S(a[0]))); }},
    {"sprig.title", "s", [](Args& a) -> Result<Json> { return Json(Title(S(a[0]))); }},
    {"sprig.nospace", "s", [](Args& a) -> Result<Json> {
       std::string out;
       for (char c : S(a[0])) {
         if (!IsSpace(c)) out += c;
       }
       return Json(out);
     }},
    {"sprig.replace", "sss", [](Args& a) -> Result<Json> {
       return Json(ReplaceAll(S(a[2]), S(a[0]), S(a[1])));
     }},
    {"sprig.contains", "ss", [](Args& a) -> Result<Json> {
       return Json(S(a[1]).find(S(a[0])) != std::string::npos);
     }},
    {"sprig.hasPrefix", "ss", [](Args& a) -> Result<Json> { return Json(S(a[1]).starts_with(S(a[0]))); }},
    {"sprig.hasSuffix", "ss", [](Args& a) -> Result<Json> { return Json(S(a[1]).ends_with(S(a[0]))); }},
    {"sprig.split", "ss", [](Args& a) -> Result<Json> {
       Json out = Json::object();
       auto parts = Split(S(a[1]), S(a[0]));
       for (size_t i = 0; i < parts.size(); ++i) out["_" + std::to_string(i)] = parts[i];
       return out;
     }},
    {"sprig.splitList", "ss", [](Args& a) -> Result<Json> { return StringList(Split(S(a[1]), S(a[0]))); }},
    {"sprig.join", "sl", [](Args& a) -> Result<Json> { return Join(a[1], S(a[0])); }},
    {"sprig.toJson", "a", [](Args& a) -> Result<Json> { return Json(Dump(a[0])); }},
    {"sprig.toString", "a", [](Args& a) -> Result<Json> { return Json(Text(a[0])); }},
    {"sprig.fromJson", "s", FromJson},
    {"sprig.default", "a?a", [](Args& a) -> Result<Json> {
       return a.size() < 2 || IsEmpty(a[1]) ? a[0] : a[1];
     }},
    {"sprig.empty", "a", [](Args& a) -> Result<Json> { return Json(IsEmpty(a[0])); }},
    {"sprig.coalesce", "a*", [](Args& a) -> Result<Json> {
       for (const Json& v : a) {
         if (!IsEmpty(v)) return v;
       }
       return Json();
     }},
    {"sprig.ternary", "aaa", [](Args& a) -> Result<Json> {
       auto cond = ToBool(a[2]);
       if (!cond) return Bad("sprig.ternary() argument 3 must be a bool");
       return *cond ? a[0] : a[1];
     }},
    {"sprig.int", "a", [](Args& a) -> Result<Json> { return Json(ToInt(a[0]).value_or(0)); }},
    {"sprig.int64", "a", [](Args& a) -> Result<Json> { return Json(ToInt(a[0]).value_or(0)); }},
    {"sprig.atoi", "s", [](Args& a) -> Result<Json> {
       int64_t v = 0;
       const std::string& s = S(a[0]);
       auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
       return Json(ec == std::errc() && end == s.data() + s.size() ? v : 0);
     }},
    {"sprig.float64", "a", [](Args& a) -> Result<Json> { return Json(ToDouble(a[0]).value_or(0)); }},
    {"sprig.add", "i*", [](Args& a) { return IntArithmetic(a, '+'); }},
    {"sprig.sub", "ii", [](Args& a) { return IntArithmetic(a, '-'); }},
    {"sprig.mul", "ii*", [](Args& a) { return IntArithmetic(a, '*'); }},
    {"sprig.div", "ii", [](Args& a) { return IntArithmetic(a, '/'); }},
    {"sprig.mod", "ii", [](Args& a) { return IntArithmetic(a, '%'); }},
    {"sprig.max", "ii*", [](Args& a) { return Extreme(a, true); }},
    {"sprig.min", "ii*", [](Args& a) { return Extreme(a, false); }},
    {"sprig.addf", "n*", [](Args& a) { return FloatArithmetic(a, '+'); }},
    {"sprig.subf", "nn*", [](Args& a) { return FloatArithmetic(a, '-'); }},
    {"sprig.mulf", "nn*", [](Args& a) { return FloatArithmetic(a, '*'); }},
    {"sprig.divf", "nn*", [](Args& a) { return FloatArithmetic(a, '/'); }},
    {"sprig.maxf", "nn*", [](Args& a) { return Extreme(a, true); }},
    {"sprig.minf", "nn*", [](Args& a) { return Extreme(a, false); }},
    {"sprig.quote", "a*", [](Args& a) { return Quote(a, '"'); }},
    {"sprig.squote", "a*", [](Args& a) { return Quote(a, '\''); }},
    {"sprig.repeat", "is", [](Args& a) -> Result<Json> {
       if (I(a[0]) < 0 || static_cast<double>(I(a[0])) * S(a[1]).size() > 1e7) {
         return Bad("sprig.repeat(): count out of range");
       }
       std::string out;
       for (int64_t k = 0; k < I(a[0]); ++k) out += S(a[1]);
       return Json(out);
     }},
    {"sprig.substr", "iis", [](Args& a) -> Result<Json> {
       const std::string& s = S(a[2]);
       auto size = static_cast<int64_t>(s.size());
       int64_t start = std::clamp<int64_t>(I(a[0]), 0, size);
       int64_t end = I(a[1]) < 0 || I(a[1]) > size ? size : I(a[1]);
       if (end < start) return Json(std::string());
       return Json(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start)));
     }},
    {"sprig.trunc", "is", [](Args& a) -> Result<Json> {
       const std::string& s = S(a[1]);
       auto size = static_cast<int64_t>(s.size());
       int64_t n = I(a[0]);
       if (n >= 0) return Json(s.substr(0, static_cast<size_t>(std::min(n, size))));
       if (n < -size) return Json(s);
       return Json(s.substr(static_cast<size_t>(size + n)));
     }},
    {"sprig.list", "a*", [](Args& a) -> Result<Json> { return Json(a); }},
    {"sprig.dict", "a*", [](Args& a) -> Result<Json> {
       Json out = Json::object();
       for (size_t i = 0; i < a.size(); i += 2) out[Text(a[i])] = i + 1 < a.size() ? a[i + 1] : Json("");
       return out;
     }},
    {"sprig.first", "l", [](Args& a) -> Result<Json> { return a[0].empty() ? Json() : a[0].front(); }},
    {"sprig.last", "l", [](Args& a) -> Result<Json> { return a[0].empty() ? Json() : a[0].back(); }},
    {"sprig.has", "al", [](Args& a) -> Result<Json> {
       return Json(std::find(a[1].begin(), a[1].end(), a[0]) != a[1].end());
     }},
    {"sprig.b64enc", "s", [](Args& a) -> Result<Json> { return Json(Base64Encode(S(a[0]))); }},
    {"sprig.b64dec", "s", [](Args& a) -> Result<Json> {
       auto decoded = Base64Decode(S(a[0]));
       if (!decoded) return Bad("sprig.b64dec(): invalid base64");
       return Json(*decoded);
     }},
    {"sprig.date", "sa", Date},
    {"sprig.regexMatch", "ss", [](Args& a) -> Result<Json> {
       std::string error;
       auto matched = RegexSearch(S(a[1]), S(a[0]), &error);
       if (!matched) return Bad(error);
       return Json(*matched);
     }},
};
// clang-format on

}  // namespace

std::optional<int64_t> ToInt(const Json& value) {
  if (auto i = Int64Of(value)) return i;
  std::optional<double> d;
  if (value.is_number_float()) {
    d = value.get<double>();
  } else if (value.is_string()) {
    std::string_view s = TrimSpace(value.get_ref<const std::string&>());
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    int64_t i = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return i;
    d = ToDouble(value);
  }
  // 2^63 is exactly representable; anything at or past it does not fit.
  if (!d || !std::isfinite(*d) || *d >= 9223372036854775808.0 || *d < -9223372036854775808.0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*d);
}

std::optional<double> ToDouble(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  std::string s(TrimSpace(value.get_ref<const std::string&>()));
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return std::nullopt;
  return d;
}

std::optional<bool> ToBool(const Json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value == "true") return true;
  if (value == "false") return false;
  return std::nullopt;
}

std::optional<Json> ToList(const Json& value) {
  if (value.is_array()) return value;
  if (value.is_null()) return Json::array();
  if (!value.is_string()) return std::nullopt;
  auto parsed = ParseJson(value.get_ref<const std::string&>());
  if (!parsed || !parsed->is_array()) return std::nullopt;
  return parsed;
}

std::optional<Result<Json>> CallFunction(std::string_view name, std::vector<Json>& args) {
  for (const Entry& entry : kFunctions) {
    if (entry.name != name) continue;
    if (Status s = Conform(name, entry.signature, args); !s.ok()) return Result<Json>(s.error());
    return entry.function(args);
  }
  return std::nullopt;
}

}  // namespace hubspoke::expr::internal
