// `{{...}}` substitution.
#include "expr/expr.h"

#include "expr/expr_lang.h"
#include "expr/json_util.h"

namespace hubspoke::expr {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool HasPlaceholders(std::string_view text) { return text.find("{{") != std::string_view::npos; }

Result<std::string> Substitute(std::string_view text, const Scope& scope, bool allow_unresolved) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    std::string_view original = text.substr(open, close + 2 - open);
    std::string_view inner = TrimSpaces(text.substr(open + 2, close - open - 2));
    i = close + 2;
    if (!inner.empty() && inner.front() == '=') {
      bool unresolved = false;
      auto value = internal::EvaluateExprValue(inner.substr(1), scope, &unresolved);
      if (value.ok()) {
        out += internal::Text(*value);
      } else if (allow_unresolved && unresolved) {
        out.append(original);
      } else {
        return value.error();
      }
      continue;
    }
    if (auto value = scope.Lookup(inner)) {
      out += *value;
    } else if (allow_unresolved) {
      out.append(original);
    } else {
      return Fail(InvalidArgument("failed to resolve {{" + std::string(inner) + "}}"));
    }
  }
  return out;
}

}  // namespace hubspoke::expr
