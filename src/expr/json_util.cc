#include "expr/json_util.h"

#include <regex.h>

#include <cctype>
#include <limits>

#include "expr/go_time.h"

namespace hubspoke::expr::internal {
namespace {

// Nesting depth of JSON text, ignoring brackets inside strings.
int JsonDepth(std::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// POSIX ERE has no \d; RE2 users write it often. Rewrites \d and \D outside bracket expressions.
std::string TranslatePattern(const std::string& pattern) {
  std::string out;
  bool in_bracket = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (!in_bracket && c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[++i];
      if (n == 'd') {
        out += "[0-9]";
      } else if (n == 'D') {
        out += "[^0-9]";
      } else {
        out += c;
        out += n;
      }
      continue;
    }
    if (!in_bracket && c == '[') {
      in_bracket = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_bracket && c == ']') in_bracket = false;
    out += c;
  }
  return out;
}

// Product of the bounds of every `{n,m}` repetition: bounded repetitions multiply the size of
// the compiled automaton, so a few nested ones can exhaust memory.
double RepetitionWeight(const std::string& pattern) {
  double weight = 1;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') continue;
    double bound = 0;
    size_t j = i + 1;
    for (; j < pattern.size() &&
           (std::isdigit(static_cast<unsigned char>(pattern[j])) || pattern[j] == ',');
         ++j) {
      if (pattern[j] == ',') {
        bound = 0;
      } else {
        bound = bound * 10 + (pattern[j] - '0');
      }
    }
    if (j < pattern.size() && pattern[j] == '}') weight *= std::max(bound, 1.0);
  }
  return weight;
}

}  // namespace

std::optional<Json> ParseJson(std::string_view text) {
  if (JsonDepth(text) > kMaxJsonDepth) return std::nullopt;
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

namespace {

enum BinarySubtype : uint8_t { kTimeSubtype = 1, kDurationSubtype = 2 };

Json Int64Binary(int64_t v, uint8_t subtype) {
  std::vector<uint8_t> bytes(8);
  for (int k = 0; k < 8; ++k) bytes[k] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * k));
  return Json::binary(std::move(bytes), subtype);
}

std::optional<int64_t> Int64OfBinary(const Json& value, uint8_t subtype) {
  if (!value.is_binary()) return std::nullopt;
  const Json::binary_t& bytes = value.get_binary();
  if (!bytes.has_subtype() || bytes.subtype() != subtype || bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= static_cast<uint64_t>(bytes[k]) << (8 * k);
  return static_cast<int64_t>(v);
}

// The JSON form of a time or duration; other values are returned as they are.
Json PlainTime(const Json& value) {
  if (auto t = TimeNanos(value)) {
    int64_t seconds = *t / 1'000'000'000;
    auto nanos = static_cast<int32_t>(*t % 1'000'000'000);
    if (nanos < 0) {
      --seconds;
      nanos += 1'000'000'000;
    }
    return FormatGoLayout("2006-01-02T15:04:05.999999999Z07:00", {seconds, nanos});
  }
  if (auto d = DurationNanos(value)) return *d;
  return value;
}

}  // namespace

Json TimeJson(int64_t unix_nanos) { return Int64Binary(unix_nanos, kTimeSubtype); }
Json DurationJson(int64_t nanos) { return Int64Binary(nanos, kDurationSubtype); }
std::optional<int64_t> TimeNanos(const Json& value) { return Int64OfBinary(value, kTimeSubtype); }
std::optional<int64_t> DurationNanos(const Json& value) {
  return Int64OfBinary(value, kDurationSubtype);
}

void PlainTimes(Json* value) {
  if (value->is_binary()) {
    *value = PlainTime(*value);
  } else if (value->is_structured()) {
    for (Json& child : *value) PlainTimes(&child);
  }
}

std::string Dump(const Json& value) {
  if (value.is_binary()) return PlainTime(value).dump();
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  // nlohmann writes a binary value as {"bytes":[...],"subtype":N}: only then (or when some text
  // has those words) are there times or durations inside to write in their JSON forms.
  if (value.is_structured() && text.find("\"subtype\":") != std::string::npos) {
    Json plain = value;
    PlainTimes(&plain);
    text = plain.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return text;
}

std::string Text(const Json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>();
  if (value.is_binary()) return Text(PlainTime(value));
  return Dump(value);
}

std::string TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "map";
    case Json::value_t::binary:
      return TimeNanos(value) ? "time.Time" : "time.Duration";
    default:
      return "nil";
  }
}

std::optional<int64_t> Int64Of(const Json& value) {
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

std::string Excerpt(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  // Cut at a code point boundary so the excerpt stays valid UTF-8 when the text was.
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return std::string(text.substr(0, max)) + "...";
}

std::string DescribeError(std::string_view what, std::string_view source, std::string_view message,
                          size_t pos) {
  std::string out(what);
  out += " '";
  out += Excerpt(source, 200);
  out += "': ";
  out += message;
  out += " at column " + std::to_string(pos + 1);
  return out;
}

size_t CodePointCount(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<bool> RegexSearch(const std::string& subject, const std::string& pattern,
                                std::string* error) {
  constexpr size_t kMaxPattern = 4096;
  if (pattern.size() > kMaxPattern) {
    *error = "regular expression longer than " + std::to_string(kMaxPattern) + " bytes";
    return std::nullopt;
  }
  if (RepetitionWeight(pattern) > 1000) {
    *error = "regular expression repetition counts too large";
    return std::nullopt;
  }
  std::string translated = TranslatePattern(pattern);
  int flags = REG_EXTENDED | REG_NOSUB;
  if (translated.rfind("(?i)", 0) == 0) {
    translated.erase(0, 4);
    flags |= REG_ICASE;
  }
  regex_t regex;
  int rc = regcomp(&regex, translated.c_str(), flags);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &regex, buf, sizeof buf);
    *error = "invalid regular expression '" + Excerpt(pattern) + "': " + buf;
    return std::nullopt;
  }
  // regexec stops at NUL; a subject with NUL bytes is matched up to the first one.
  bool matched = regexec(&regex, subject.c_str(), 0, nullptr, 0) == 0;
  regfree(&regex);
  return matched;
}

}  // namespace hubspoke::expr::internal
