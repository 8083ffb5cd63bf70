// Resource success/failure conditions: label-selector requirements over paths of a JSON document.
#include <cctype>
#include <cstdlib>

#include "expr/expr.h"
#include "expr/json_util.h"

namespace hubspoke::expr {
namespace {

using internal::Json;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Unquote(std::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

// The value at a dotted path ("status.phase", "status.conditions.0.type"), or nullptr.
const Json* Find(const Json& document, std::string_view path) {
  const Json* node = &document;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (node->is_object()) {
      auto it = node->find(key);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      char* end = nullptr;
      long index = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || index < 0 || static_cast<size_t>(index) >= node->size()) {
        return nullptr;
      }
      node = &(*node)[static_cast<size_t>(index)];
    } else {
      return nullptr;
    }
  }
  return node;
}

std::optional<double> Number(std::string_view text) {
  std::string s(Trim(text));
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return std::nullopt;
  return value;
}

// Splits at commas that are not inside parentheses.
std::vector<std::pair<std::string_view, size_t>> SplitRequirements(std::string_view condition) {
  std::vector<std::pair<std::string_view, size_t>> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= condition.size(); ++i) {
    char c = i < condition.size() ? condition[i] : ',';
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (i == condition.size() || (c == ',' && depth <= 0)) {
      parts.emplace_back(condition.substr(start, i - start), start);
      start = i + 1;
    }
  }
  return parts;
}

class Requirement {
 public:
  static Result<Requirement> Parse(std::string_view condition, std::string_view text,
                                   size_t offset) {
    Requirement r;
    auto fault = [&](const std::string& message, size_t at) {
      return InvalidArgument(
          internal::DescribeError("invalid resource condition", condition, message, offset + at));
    };
    size_t i = 0;
    auto skip = [&] {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    skip();
    if (i < text.size() && text[i] == '!') {
      r.op_ = "!";
      ++i;
      skip();
    }
    size_t key_start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
           std::string_view("=!<>(),").find(text[i]) == std::string_view::npos) {
      ++i;
    }
    r.key_ = std::string(text.substr(key_start, i - key_start));
    if (r.key_.empty()) return Fail(fault("expected a path", key_start));
    skip();
    std::string_view rest = text.substr(i);
    if (r.op_ == "!" || rest.empty()) {
      if (!rest.empty()) return Fail(fault("unexpected text after '!" + r.key_ + "'", i));
      if (r.op_.empty()) r.op_ = "exists";
      return r;
    }
    for (std::string_view op : {"==", "!=", "=", ">", "<", "notin", "in"}) {
      if (rest.substr(0, op.size()) == op) {
        r.op_ = op == "=" ? "==" : std::string(op);
        i += op.size();
        break;
      }
    }
    if (r.op_.empty()) return Fail(fault("expected an operator after '" + r.key_ + "'", i));
    skip();
    if (r.op_ == "in" || r.op_ == "notin") {
      if (i >= text.size() || text[i] != '(') return Fail(fault("expected '(' after " + r.op_, i));
      size_t close = text.find(')', i);
      if (close == std::string_view::npos) return Fail(fault("missing ')'", i));
      if (!Trim(text.substr(close + 1)).empty()) {
        return Fail(fault("unexpected text after ')'", close + 1));
      }
      std::string_view list = text.substr(i + 1, close - i - 1);
      size_t start = 0;
      for (size_t k = 0; k <= list.size(); ++k) {
        if (k == list.size() || list[k] == ',') {
          r.values_.push_back(Unquote(list.substr(start, k - start)));
          start = k + 1;
        }
      }
      return r;
    }
    std::string_view value = Trim(text.substr(i));
    if (value.empty()) return Fail(fault("expected a value after '" + r.op_ + "'", i));
    r.values_.push_back(Unquote(value));
    if ((r.op_ == ">" || r.op_ == "<") && !Number(r.values_[0])) {
      return Fail(fault("'" + r.op_ + "' needs a number, got '" + r.values_[0] + "'", i));
    }
    return r;
  }

  bool Matches(const Json& document) const {
    const Json* node = Find(document, key_);
    if (op_ == "!") return node == nullptr;
    if (node == nullptr) return false;
    if (op_ == "exists") return true;
    std::string actual = internal::Text(*node);
    if (op_ == ">" || op_ == "<") {
      auto x = Number(actual);
      auto y = Number(values_[0]);
      return x && y && (op_ == ">" ? *x > *y : *x < *y);
    }
    bool found = false;
    for (const std::string& v : values_) found = found || v == actual;
    return op_ == "==" || op_ == "in" ? found : !found;
  }

 private:
  std::string key_;
  std::string op_;  // "exists", "!", "==", "!=", "in", "notin", ">", "<"
  std::vector<std::string> values_;
};

}  // namespace

Result<bool> EvaluateResourceCondition(std::string_view condition, std::string_view json_document) {
  auto document = internal::ParseJson(json_document);
  if (!document) {
    return Fail(InvalidArgument("resource condition input is not JSON: '" +
                                internal::Excerpt(json_document) + "'"));
  }
  if (Trim(condition).empty()) return Fail(InvalidArgument("empty resource condition"));
  std::vector<Requirement> requirements;
  for (const auto& [text, offset] : SplitRequirements(condition)) {
    auto requirement = Requirement::Parse(condition, text, offset);
    if (!requirement.ok()) return requirement.error();
    requirements.push_back(std::move(*requirement));
  }
  for (const Requirement& r : requirements) {
    if (!r.Matches(*document)) return false;
  }
  return true;
}

}  // namespace hubspoke::expr
