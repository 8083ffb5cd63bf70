// Loop items (withItems / withParam / withSequence) and aggregated loop outputs.
#include <cctype>
#include <charconv>
#include <cstdio>

#include "expr/expr.h"
#include "expr/json_util.h"

namespace hubspoke::expr {
namespace {

using internal::Json;

std::optional<int64_t> ParseInteger(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Turns a user's printf format into one with a single `%lld`-style conversion, or an error.
// Accepted: flags "-+ 0#", a width and precision of at most two digits each, and one of
// d i x X o (s and v print the decimal number, as Go's %v would). `%%` is a literal percent.
Result<std::string> SafeIntegerFormat(std::string_view format) {
  std::string out;
  int conversions = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      out += "%%";
      ++i;
      continue;
    }
    std::string spec = "%";
    size_t j = i + 1;
    while (j < format.size() && std::string_view("-+ 0#").find(format[j]) != std::string::npos) {
      spec += format[j++];
    }
    auto digits = [&]() {
      size_t start = j;
      while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j]))) {
        spec += format[j++];
      }
      return j - start;
    };
    if (digits() > 2) return Fail(InvalidArgument("withSequence format width too large"));
    if (j < format.size() && format[j] == '.') {
      spec += format[j++];
      if (digits() > 2) return Fail(InvalidArgument("withSequence format precision too large"));
    }
    if (j >= format.size()) {
      return Fail(InvalidArgument("withSequence format '" + std::string(format) +
                                  "' ends inside a conversion"));
    }
    char verb = format[j];
    if (verb == 's' || verb == 'v') verb = 'd';
    if (std::string_view("dixXo").find(verb) == std::string::npos) {
      return Fail(InvalidArgument("withSequence format '" + std::string(format) +
                                  "' may only use an integer conversion such as %d or %02d"));
    }
    spec += "ll";
    spec += verb;
    out += spec;
    ++conversions;
    i = j;
  }
  if (conversions != 1) {
    return Fail(InvalidArgument("withSequence format '" + std::string(format) +
                                "' must contain exactly one integer conversion such as %d"));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ParseItems(std::string_view json_list) {
  auto value = internal::ParseJson(json_list);
  if (!value || !value->is_array()) {
    return Fail(InvalidArgument("expected a JSON list of items, got '" +
                                internal::Excerpt(json_list) + "'"));
  }
  std::vector<std::string> items;
  items.reserve(value->size());
  for (const Json& item : *value) items.push_back(internal::Dump(item));
  return items;
}

Result<std::vector<std::string>> SequenceItems(std::string_view count, std::string_view start,
                                               std::string_view end, std::string_view format) {
  auto parse = [](std::string_view field, std::string_view text) -> Result<int64_t> {
    auto value = ParseInteger(text);
    if (!value) {
      return Fail(InvalidArgument("withSequence " + std::string(field) + " '" +
                                  internal::Excerpt(text) + "' is not an integer"));
    }
    return *value;
  };
  bool has_count = !count.empty();
  bool has_end = !end.empty();
  if (has_count == has_end) {
    return Fail(InvalidArgument("withSequence needs exactly one of count or end"));
  }
  int64_t first = 0;
  if (!start.empty()) {
    auto s = parse("start", start);
    if (!s.ok()) return s.error();
    first = *s;
  }
  int64_t last = 0;
  int64_t step = 1;
  int64_t size;
  if (has_count) {
    auto n = parse("count", count);
    if (!n.ok()) return n.error();
    if (*n < 0) return Fail(InvalidArgument("withSequence count must not be negative"));
    size = *n;
    if (size > 0 && __builtin_add_overflow(first, size - 1, &last)) {
      return Fail(InvalidArgument("withSequence start + count is out of range"));
    }
  } else {
    auto e = parse("end", end);
    if (!e.ok()) return e.error();
    last = *e;
    step = last >= first ? 1 : -1;
    // The difference may overflow int64; compare in long double.
    long double span = static_cast<long double>(last) - static_cast<long double>(first);
    if (span < 0) span = -span;
    size = span + 1 > internal::kMaxGeneratedItems ? internal::kMaxGeneratedItems + 1
                                                   : static_cast<int64_t>(span) + 1;
  }
  if (size > internal::kMaxGeneratedItems) {
    return Fail(InvalidArgument("withSequence would produce more than " +
                                std::to_string(internal::kMaxGeneratedItems) + " items"));
  }
  auto safe_format = SafeIntegerFormat(format.empty() ? "%d" : format);
  if (!safe_format.ok()) return safe_format.error();
  std::vector<std::string> items;
  items.reserve(static_cast<size_t>(size));
  for (int64_t k = 0; k < size; ++k) {
    long long value = static_cast<long long>(first + step * k);
    int n = std::snprintf(nullptr, 0, safe_format->c_str(), value);
    std::string text(static_cast<size_t>(std::max(n, 0)), '\0');
    std::snprintf(text.data(), text.size() + 1, safe_format->c_str(), value);
    items.push_back(JsonQuote(text));
  }
  return items;
}

namespace {

// The text of an item that is a plain integer (`42`) or a plain printable ASCII string without
// escapes (`"repo-1"`), the items of most fan-outs, found without parsing it: a 100,000-item loop
// asks for it several times per item. Anything else is nullopt, and is parsed.
std::optional<std::string_view> PlainScalarText(std::string_view json) {
  if (json.size() >= 2 && json.front() == '"' && json.back() == '"') {
    std::string_view text = json.substr(1, json.size() - 2);
    for (char c : text) {
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return std::nullopt;
    }
    return text;
  }
  std::string_view digits = json.substr(!json.empty() && json.front() == '-' ? 1 : 0);
  if (digits.empty() || digits.size() > 18 || (digits[0] == '0' && json.size() > 1)) {
    return std::nullopt;  // "-0" and leading zeros are left to the parser
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return json;
}

}  // namespace

std::string ItemText(std::string_view item_json) {
  if (auto plain = PlainScalarText(item_json)) return std::string(*plain);
  auto value = internal::ParseJson(item_json);
  if (!value) return std::string(item_json);
  return internal::Text(*value);
}

void FlattenItem(std::string_view prefix, std::string_view item_json,
                 const std::function<void(std::string, std::string)>& add) {
  if (auto plain = PlainScalarText(item_json)) {
    add(std::string(prefix), std::string(*plain));
    return;
  }
  auto value = internal::ParseJson(item_json);
  if (!value) {
    add(std::string(prefix), std::string(item_json));
    return;
  }
  add(std::string(prefix), internal::Text(*value));
  if (!value->is_object()) return;
  for (const auto& [key, field] : value->items()) {
    add(std::string(prefix) + "." + key, internal::Text(field));
  }
}

std::string ItemDisplay(std::string_view item_json) {
  if (auto plain = PlainScalarText(item_json)) return std::string(*plain);
  auto value = internal::ParseJson(item_json);
  if (!value) return std::string(item_json);
  if (!value->is_object()) return internal::Text(*value);
  std::string out;
  for (const auto& [key, field] : value->items()) {  // nlohmann keeps keys sorted
    if (!out.empty()) out += ',';
    out += key + ":" + internal::Text(field);
  }
  return out;
}

std::string AggregateList(const std::vector<std::string>& values) {
  Json list = Json::array();
  for (const std::string& text : values) {
    auto value = internal::ParseJson(text);
    list.push_back(value ? std::move(*value) : Json(text));
  }
  return internal::Dump(list);
}

std::string AggregateParameters(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& rows) {
  Json list = Json::array();
  for (const auto& row : rows) {
    if (row.empty()) continue;  // Argo lists only children that have output parameters
    Json object = Json::object();
    for (const auto& [name, value] : row) object[name] = value;
    list.push_back(std::move(object));
  }
  return internal::Dump(list);
}

std::string JsonQuote(std::string_view text) { return internal::Dump(Json(std::string(text))); }

}  // namespace hubspoke::expr
