#include "expr/jsonpath.h"

#include <cctype>
#include <string>
#include <unordered_set>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace internal {
namespace {

bool IsNameChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || c == '_' || c == '-' || c == '/';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Index of the bracket closing the one at `open` (quotes respected), or npos.
size_t MatchingClose(std::string_view s, size_t open, char open_c, char close_c) {
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == open_c) {
      ++depth;
    } else if (c == close_c && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Reads a '...' or "..." literal starting at s[*pos]; backslash escapes the next character.
std::optional<std::string> ReadQuoted(std::string_view s, size_t* pos) {
  char quote = s[*pos];
  std::string out;
  for (size_t i = *pos + 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else if (c == quote) {
      *pos = i + 1;
      return out;
    } else {
      out += c;
    }
  }
  return std::nullopt;
}

bool Compare(const Json& a, std::string_view op, const Json& b) {
  if (op == "==") return a == b;
  if (op == "!=") return a != b;
  int cmp;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>();
    double y = b.get<double>();
    cmp = x < y ? -1 : x > y ? 1 : 0;
  } else if (a.is_string() && b.is_string()) {
    cmp = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  } else {
    return false;
  }
  if (op == "<") return cmp < 0;
  if (op == "<=") return cmp <= 0;
  if (op == ">") return cmp > 0;
  return cmp >= 0;
}

// Appends `node` and everything below it, each node once even when `..` is repeated.
void CollectDescendants(const Json* node, std::vector<const Json*>* out,
                        std::unordered_set<const Json*>* seen) {
  if (!seen->insert(node).second) return;
  out->push_back(node);
  if (node->is_structured()) {
    for (const Json& child : *node) CollectDescendants(&child, out, seen);
  }
}

// One side of a filter comparison: a path from `@` or `$`, or a scalar literal.
struct Operand {
  std::string_view path;  // empty for a literal
  Json literal;
};

// A parsed filter: `a || b`, `a && b`, `!a`, `(a)`, `x op y`, or a path alone (it exists).
struct Condition {
  enum class Kind { kOr, kAnd, kNot, kCompare, kExists };
  Kind kind = Kind::kExists;
  std::vector<Condition> kids;  // kOr, kAnd, kNot
  std::string_view op;          // kCompare
  Operand left;                 // kCompare, kExists
  Operand right;                // kCompare
};

// Parses the text inside `[?( ... )]`; `base` is its offset in `path` for error columns.
class FilterParser {
 public:
  FilterParser(std::string_view path, std::string_view expr, size_t base)
      : path_(path), expr_(expr), base_(base) {}

  Result<Condition> Parse() {
    auto condition = Or(0);
    if (!condition.ok()) return condition.error();
    SkipSpaces();
    if (pos_ < expr_.size()) return Fault("unexpected '" + std::string(1, expr_[pos_]) + "'");
    return condition;
  }

 private:
  void SkipSpaces() {
    while (pos_ < expr_.size() && IsSpace(expr_[pos_])) ++pos_;
  }
  bool Take(std::string_view token) {
    SkipSpaces();
    if (expr_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  hubspoke::Error Fault(const std::string& message) const {
    return InvalidArgument(DescribeError("invalid JSONPath", path_, message, base_ + pos_));
  }

  // `kind` joins operands read by `next` with `token` ("||" or "&&").
  template <typename Next>
  Result<Condition> Chain(Condition::Kind kind, std::string_view token, Next next) {
    auto first = next();
    if (!first.ok()) return first.error();
    if (!Take(token)) return first;
    Condition chain{kind, {std::move(*first)}, {}, {}, {}};
    do {
      auto more = next();
      if (!more.ok()) return more.error();
      chain.kids.push_back(std::move(*more));
    } while (Take(token));
    return chain;
  }

  Result<Condition> Or(int depth) {
    return Chain(Condition::Kind::kOr, "||",
                 [&] { return Chain(Condition::Kind::kAnd, "&&", [&] { return Unary(depth); }); });
  }

  Result<Condition> Unary(int depth) {
    if (depth > kMaxNesting) return Fault("filter nested too deeply");
    if (Take("!")) {
      if (expr_.substr(pos_, 1) == "=") return Fault("unexpected '!='");
      auto operand = Unary(depth + 1);
      if (!operand.ok()) return operand.error();
      return Condition{Condition::Kind::kNot, {std::move(*operand)}, {}, {}, {}};
    }
    if (Take("(")) {
      auto inner = Or(depth + 1);
      if (!inner.ok()) return inner.error();
      if (!Take(")")) return Fault("expected ')'");
      return inner;
    }
    auto left = ReadOperand();
    if (!left.ok()) return left.error();
    static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (std::string_view op : kOps) {
      if (!Take(op)) continue;
      auto right = ReadOperand();
      if (!right.ok()) return right.error();
      return Condition{Condition::Kind::kCompare, {}, op, std::move(*left), std::move(*right)};
    }
    if (left->path.empty()) return Fault("a filter condition must compare or name a path");
    return Condition{Condition::Kind::kExists, {}, {}, std::move(*left), {}};
  }

  Result<Operand> ReadOperand() {
    SkipSpaces();
    if (pos_ >= expr_.size()) return Fault("expected a path or a value");
    size_t start = pos_;
    char c = expr_[pos_];
    if (c == '@' || c == '$') {
      ++pos_;
      while (pos_ < expr_.size()) {
        char d = expr_[pos_];
        if (d == '[') {
          size_t close = MatchingClose(expr_, pos_, '[', ']');
          if (close == std::string_view::npos) return Fault("unclosed '['");
          pos_ = close + 1;
        } else if (IsNameChar(d) || d == '.' || d == '*') {
          ++pos_;
        } else {
          break;
        }
      }
      return Operand{expr_.substr(start, pos_ - start), Json()};
    }
    if (c == '\'' || c == '"') {
      auto text = ReadQuoted(expr_, &pos_);
      if (!text) return Fault("bad string in filter");
      return Operand{{}, Json(std::move(*text))};
    }
    while (pos_ < expr_.size() && !IsSpace(expr_[pos_]) &&
           std::string_view("=!<>&|()").find(expr_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
    std::string_view text = expr_.substr(start, pos_ - start);
    auto literal = ParseJson(text);
    if (text.empty() || !literal || literal->is_structured()) {
      pos_ = start;
      return Fault("bad value '" + std::string(text.empty() ? expr_.substr(pos_, 1) : text) +
                   "' in filter");
    }
    return Operand{{}, std::move(*literal)};
  }

  std::string_view path_;
  std::string_view expr_;
  size_t base_;
  size_t pos_ = 0;
};

// Parses a path and applies each step as it is read.
class PathWalker {
 public:
  PathWalker(const Json& root, std::string_view path, int nesting, bool missing_ok)
      : root_(root), path_(path), nesting_(nesting), missing_ok_(missing_ok) {}

  Result<std::vector<const Json*>> Run(const Json& current, bool* definite) {
    if (nesting_ > kMaxNesting) return Fault("filters nested too deeply");
    *definite = true;
    std::vector<const Json*> nodes;
    SkipSpaces();
    if (Peek() == '$') {
      nodes.push_back(&root_);
      ++pos_;
    } else {
      if (Peek() == '@') ++pos_;
      nodes.push_back(&current);
    }
    bool after_descent = false;
    while (true) {
      if (nodes.size() > kMaxWork) return Fault("path selects too many nodes");
      SkipSpaces();
      if (pos_ >= path_.size()) break;
      char c = path_[pos_];
      if (c == '[') {
        auto next = Bracket(nodes, after_descent, definite);
        if (!next.ok()) return next.error();
        nodes = std::move(next.value());
        after_descent = false;
        continue;
      }
      if (c != '.') return Fault(std::string("unexpected '") + c + "'");
      ++pos_;
      if (Peek() == '.') {
        ++pos_;
        std::vector<const Json*> all;
        std::unordered_set<const Json*> seen;
        for (const Json* n : nodes) CollectDescendants(n, &all, &seen);
        nodes = std::move(all);
        *definite = false;
        after_descent = true;
        if (Peek() == '[') continue;
      }
      if (pos_ >= path_.size() || IsSpace(Peek())) break;
      if (Peek() == '*') {
        ++pos_;
        nodes = Children(nodes);
        *definite = false;
        after_descent = false;
        continue;
      }
      if (Peek() == '[') continue;
      size_t start = pos_;
      while (pos_ < path_.size() && IsNameChar(path_[pos_])) ++pos_;
      if (pos_ == start) return Fault("expected a field name");
      auto next =
          Fields(nodes, {std::string(path_.substr(start, pos_ - start))}, after_descent, start);
      if (!next.ok()) return next.error();
      nodes = std::move(next.value());
      after_descent = false;
    }
    return nodes;
  }

 private:
  char Peek() const { return pos_ < path_.size() ? path_[pos_] : '\0'; }
  void SkipSpaces() {
    while (pos_ < path_.size() && IsSpace(path_[pos_])) ++pos_;
  }
  hubspoke::Error Fault(const std::string& message, std::optional<size_t> at = std::nullopt) const {
    return InvalidArgument(DescribeError("invalid JSONPath", path_, message, at.value_or(pos_)));
  }

  static std::vector<const Json*> Children(const std::vector<const Json*>& nodes) {
    std::vector<const Json*> out;
    for (const Json* n : nodes) {
      if (!n->is_structured()) continue;
      for (const Json& child : *n) out.push_back(&child);
    }
    return out;
  }

  Result<std::vector<const Json*>> Fields(const std::vector<const Json*>& nodes,
                                          const std::vector<std::string>& names, bool lenient,
                                          size_t at) {
    std::vector<const Json*> out;
    for (const Json* n : nodes) {
      if (!n->is_object()) continue;
      for (const std::string& name : names) {
        auto it = n->find(name);
        if (it != n->end()) out.push_back(&*it);
      }
    }
    if (out.empty() && !nodes.empty() && !lenient && !missing_ok_) {
      return Fault("'" + names.front() + "' is not found", at);
    }
    return out;
  }

  std::optional<int64_t> ReadInt() {
    size_t start = pos_;
    if (Peek() == '-' || Peek() == '+') ++pos_;
    size_t digits = pos_;
    while (pos_ < path_.size() && std::isdigit(static_cast<unsigned char>(path_[pos_]))) ++pos_;
    if (pos_ == digits || pos_ - digits > 12) {
      pos_ = start;
      return std::nullopt;
    }
    return std::stoll(std::string(path_.substr(start, pos_ - start)));
  }

  Result<std::vector<const Json*>> Bracket(const std::vector<const Json*>& nodes, bool lenient,
                                           bool* definite) {
    size_t open = pos_++;
    SkipSpaces();
    std::vector<const Json*> out;
    if (Peek() == '*') {
      ++pos_;
      out = Children(nodes);
      *definite = false;
    } else if (Peek() == '?') {
      ++pos_;
      SkipSpaces();
      if (Peek() != '(') return Fault("expected '(' after '?'");
      size_t close = MatchingClose(path_, pos_, '(', ')');
      if (close == std::string_view::npos) return Fault("unclosed filter");
      auto filtered = Filter(nodes, path_.substr(pos_ + 1, close - pos_ - 1), pos_ + 1);
      if (!filtered.ok()) return filtered.error();
      out = std::move(filtered.value());
      pos_ = close + 1;
      *definite = false;
    } else if (Peek() == '\'' || Peek() == '"') {
      std::vector<std::string> names;
      size_t at = pos_;
      while (true) {
        auto name = ReadQuoted(path_, &pos_);
        if (!name) return Fault("unterminated string");
        names.push_back(std::move(*name));
        SkipSpaces();
        if (Peek() != ',') break;
        ++pos_;
        SkipSpaces();
        if (Peek() != '\'' && Peek() != '"') return Fault("expected a quoted name");
      }
      if (names.size() > 1) *definite = false;
      if (names.size() * nodes.size() > kMaxWork) return Fault("path selects too many nodes");
      auto fields = Fields(nodes, names, lenient, at);
      if (!fields.ok()) return fields.error();
      out = std::move(fields.value());
    } else {
      auto indexed = Indexes(nodes, lenient, definite);
      if (!indexed.ok()) return indexed.error();
      out = std::move(indexed.value());
    }
    SkipSpaces();
    if (Peek() != ']')
      return Fault("expected ']' to close '[' at column " + std::to_string(open + 1));
    ++pos_;
    return out;
  }

  // `[n]`, `[-n]`, `[n,m]`, `[a:b]`, `[a:b:step]`.
  Result<std::vector<const Json*>> Indexes(const std::vector<const Json*>& nodes, bool lenient,
                                           bool* definite) {
    std::vector<const Json*> out;
    bool first = true;
    size_t at = pos_;
    do {
      if (!first) {
        ++pos_;
        *definite = false;
      }
      first = false;
      SkipSpaces();
      std::optional<int64_t> start = ReadInt();
      SkipSpaces();
      if (Peek() != ':') {
        if (!start) return Fault("expected an index, a slice, '*', '?' or a quoted name");
        for (const Json* n : nodes) {
          if (!n->is_array()) continue;
          int64_t size = static_cast<int64_t>(n->size());
          int64_t i = *start < 0 ? *start + size : *start;
          if (i >= 0 && i < size) out.push_back(&(*n)[static_cast<size_t>(i)]);
        }
        if (out.size() > kMaxWork) return Fault("path selects too many nodes");
        continue;
      }
      ++pos_;
      *definite = false;
      SkipSpaces();
      std::optional<int64_t> end = ReadInt();
      int64_t step = 1;
      SkipSpaces();
      if (Peek() == ':') {
        ++pos_;
        SkipSpaces();
        if (auto s = ReadInt()) step = *s;
        if (step <= 0) return Fault("slice step must be positive");
      }
      for (const Json* n : nodes) {
        if (!n->is_array()) continue;
        int64_t size = static_cast<int64_t>(n->size());
        auto clamp = [size](int64_t i) {
          if (i < 0) i += size;
          return std::min(std::max<int64_t>(i, 0), size);
        };
        int64_t b = start ? clamp(*start) : 0;
        int64_t e = end ? clamp(*end) : size;
        for (int64_t i = b; i < e; i += step) out.push_back(&(*n)[static_cast<size_t>(i)]);
      }
      if (out.size() > kMaxWork) return Fault("path selects too many nodes");
      SkipSpaces();
    } while (Peek() == ',');
    if (out.empty() && !nodes.empty() && *definite && !lenient && !missing_ok_) {
      return Fault("array index out of bounds", at);
    }
    return out;
  }

  // `[?(...)]`: the children of `nodes` for which the filter condition holds.
  Result<std::vector<const Json*>> Filter(const std::vector<const Json*>& nodes,
                                          std::string_view expr, size_t expr_pos) {
    auto condition = FilterParser(path_, expr, expr_pos).Parse();
    if (!condition.ok()) return condition.error();
    std::vector<const Json*> out;
    for (const Json* n : nodes) {
      if (!n->is_structured()) continue;
      for (const Json& item : *n) {
        auto keep = Holds(*condition, item);
        if (!keep.ok()) return keep.error();
        if (*keep) out.push_back(&item);
      }
    }
    return out;
  }

  // The operand's value for `item`: a literal, or the first node its path selects (nullptr when
  // it selects none).
  Result<const Json*> Value(const Operand& operand, const Json& item) {
    if (operand.path.empty()) return &operand.literal;
    PathWalker walker(root_, operand.path, nesting_ + 1, /*missing_ok=*/true);
    bool unused;
    auto found = walker.Run(item, &unused);
    if (!found.ok()) return found.error();
    return found->empty() ? nullptr : found->front();
  }

  Result<bool> Holds(const Condition& condition, const Json& item) {
    using Kind = Condition::Kind;
    switch (condition.kind) {
      case Kind::kOr:
      case Kind::kAnd:
        for (const Condition& kid : condition.kids) {
          auto holds = Holds(kid, item);
          if (!holds.ok() || *holds == (condition.kind == Kind::kOr)) return holds;
        }
        return condition.kind == Kind::kAnd;
      case Kind::kNot: {
        auto holds = Holds(condition.kids.front(), item);
        if (!holds.ok()) return holds;
        return !*holds;
      }
      case Kind::kExists: {
        auto value = Value(condition.left, item);
        if (!value.ok()) return value.error();
        return *value != nullptr;
      }
      case Kind::kCompare:
        break;
    }
    auto left = Value(condition.left, item);
    if (!left.ok()) return left.error();
    auto right = Value(condition.right, item);
    if (!right.ok()) return right.error();
    return *left != nullptr && *right != nullptr && Compare(**left, condition.op, **right);
  }

  const Json& root_;
  std::string_view path_;
  int nesting_;
  bool missing_ok_;
  size_t pos_ = 0;
};

// A kubectl template: literal text, `{path}` blocks, `{range path}...{end}` loops.
struct TemplatePart {
  enum class Kind { kText, kPath, kRange };
  Kind kind;
  std::string text;
  std::vector<TemplatePart> body;
};

Result<std::vector<TemplatePart>> ParseTemplate(std::string_view tmpl) {
  std::vector<TemplatePart> top;
  std::vector<std::vector<TemplatePart>*> stack = {&top};
  auto error = [&](const std::string& message, size_t pos) {
    return InvalidArgument(DescribeError("invalid JSONPath template", tmpl, message, pos));
  };
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    if (open != i) {
      size_t end = open == std::string_view::npos ? tmpl.size() : open;
      stack.back()->push_back(
          {TemplatePart::Kind::kText, std::string(tmpl.substr(i, end - i)), {}});
      i = end;
      continue;
    }
    size_t close = MatchingClose(tmpl, open, '{', '}');
    if (close == std::string_view::npos) return error("unclosed '{'", open);
    std::string_view content = Trim(tmpl.substr(open + 1, close - open - 1));
    if (content.rfind("range ", 0) == 0 || content.rfind("range\t", 0) == 0) {
      if (stack.size() > static_cast<size_t>(kMaxNesting)) {
        return error("{range} nested too deeply", open);
      }
      stack.back()->push_back(
          {TemplatePart::Kind::kRange, std::string(Trim(content.substr(6))), {}});
      stack.push_back(&stack.back()->back().body);
    } else if (content == "end") {
      if (stack.size() == 1) return error("{end} without {range}", open);
      stack.pop_back();
    } else if (!content.empty() && (content.front() == '"' || content.front() == '\'')) {
      size_t p = 0;
      auto text = ReadQuoted(content, &p);
      if (!text || p != content.size()) return error("bad string literal", open);
      stack.back()->push_back({TemplatePart::Kind::kText, std::move(*text), {}});
    } else {
      stack.back()->push_back({TemplatePart::Kind::kPath, std::string(content), {}});
    }
    i = close + 1;
  }
  if (stack.size() > 1) return error("{range} without {end}", tmpl.size());
  return top;
}

// `work` counts parts rendered, against kMaxWork; the output may grow to 64 MiB.
Status Render(const std::vector<TemplatePart>& parts, const Json& root, const Json& current,
              std::string* out, size_t* work) {
  constexpr size_t kMaxOutput = 64 << 20;
  for (const TemplatePart& part : parts) {
    if (++*work > kMaxWork || out->size() > kMaxOutput) {
      return Fail(InvalidArgument("JSONPath template produces too much output"));
    }
    if (part.kind == TemplatePart::Kind::kText) {
      *out += part.text;
      continue;
    }
    bool definite;
    auto nodes = SelectPath(root, current, part.text, &definite);
    if (!nodes.ok()) return nodes.error();
    *work += nodes->size();
    if (part.kind == TemplatePart::Kind::kPath) {
      for (size_t k = 0; k < nodes->size(); ++k) {
        if (k > 0) *out += ' ';
        *out += Text(*(*nodes)[k]);
      }
      continue;
    }
    for (const Json* node : *nodes) {
      if (node->is_array()) {
        for (const Json& item : *node) {
          if (Status s = Render(part.body, root, item, out, work); !s.ok()) return s;
        }
      } else if (Status s = Render(part.body, root, *node, out, work); !s.ok()) {
        return s;
      }
    }
  }
  return {};
}

}  // namespace

Result<std::vector<const Json*>> SelectPath(const Json& root, const Json& current,
                                            std::string_view path, bool* definite) {
  return PathWalker(root, path, 0, /*missing_ok=*/false).Run(current, definite);
}

Result<Json> QueryJsonPath(const Json& document, std::string_view path) {
  bool definite;
  auto nodes = SelectPath(document, document, path, &definite);
  if (!nodes.ok()) return nodes.error();
  if (definite) {
    if (nodes->empty()) return Fail(InvalidArgument("JSONPath '" + Excerpt(path) + "' not found"));
    return *nodes->front();
  }
  Json list = Json::array();
  for (const Json* n : *nodes) list.push_back(*n);
  return list;
}

}  // namespace internal

Result<std::string> JsonPath(std::string_view json_document, std::string_view path) {
  using internal::Json;
  auto document = internal::ParseJson(json_document);
  if (!document) {
    return Fail(
        InvalidArgument("JSONPath input is not JSON: '" + internal::Excerpt(json_document) + "'"));
  }
  std::string_view trimmed = internal::Trim(path);
  std::string braced;
  if (trimmed.find('{') == std::string_view::npos &&
      (trimmed.rfind(".", 0) == 0 || trimmed.rfind("$", 0) == 0)) {
    braced = "{" + std::string(trimmed) + "}";
    path = braced;
  }
  auto parts = internal::ParseTemplate(path);
  if (!parts.ok()) return parts.error();
  std::string out;
  size_t work = 0;
  if (Status s = internal::Render(*parts, *document, *document, &out, &work); !s.ok()) {
    return s.error();
  }
  return out;
}

}  // namespace hubspoke::expr
