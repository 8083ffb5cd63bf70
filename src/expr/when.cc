// `when` conditions in the govaluate dialect, after substitution. Unquoted words are strings, as
// Argo turns govaluate's variables into strings before evaluating.
#include <cctype>
#include <cmath>
#include <memory>

#include "expr/expr.h"
#include "expr/json_util.h"

namespace hubspoke::expr {
namespace {

using internal::DescribeError;
using internal::Json;

enum class TokenKind { kEnd, kValue, kOp, kOpen, kClose, kComma };

struct Token {
  TokenKind kind;
  std::string op;  // operator text, or how a number was spelled
  Json value;      // kValue: number, string or bool
  size_t pos;
};

struct Node {
  enum class Kind { kValue, kList, kUnary, kBinary, kTernary };
  Kind kind;
  std::string op;  // operator, or how a number value was spelled
  Json value;
  size_t pos;
  int depth = 1;
  std::vector<std::unique_ptr<Node>> kids;
};

bool IsWordStart(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalpha(u) || c == '_';
}
bool IsWordChar(char c) {
  return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.';
}

class WhenEvaluator {
 public:
  explicit WhenEvaluator(std::string_view source) : src_(source) {}

  Result<bool> Run() {
    if (auto s = Tokenize(); !s.ok()) return s.error();
    auto root = ParseTernary();
    if (!root.ok()) return root.error();
    if (Peek().kind != TokenKind::kEnd) return Fault("unexpected '" + Describe(Peek()) + "'");
    auto value = Eval(**root);
    if (!value.ok()) return value.error();
    if (!value->is_boolean()) {
      return Fail(InvalidArgument(
          "expected boolean evaluation for '" + internal::Excerpt(src_, 200) + "', got " +
          internal::TypeName(*value) + " " + internal::Excerpt(internal::Dump(*value))));
    }
    return value->get<bool>();
  }

 private:
  Error Fault(const std::string& message, std::optional<size_t> pos = std::nullopt) const {
    return InvalidArgument(
        DescribeError("invalid 'when' expression", src_, message, pos ? *pos : Peek().pos));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd:
        return "end of expression";
      case TokenKind::kValue:
        return internal::Excerpt(internal::Text(t.value), 32);
      case TokenKind::kOpen:
        return "(";
      case TokenKind::kClose:
        return ")";
      case TokenKind::kComma:
        return ",";
      case TokenKind::kOp:
        break;
    }
    return t.op;
  }

  Status Tokenize() {
    static constexpr std::string_view kOps[] = {"==", "!=", ">=", "<=", "=~", "!~", "&&",
                                                "||", "??", "**", ">",  "<",  "!",  "+",
                                                "-",  "*",  "/",  "%",  "?",  ":"};
    size_t i = 0;
    while (i < src_.size()) {
      char c = src_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      size_t start = i;
      if (c == '(' || c == ')' || c == ',') {
        tokens_.push_back({c == '('   ? TokenKind::kOpen
                           : c == ')' ? TokenKind::kClose
                                      : TokenKind::kComma,
                           std::string(1, c),
                           {},
                           start});
        ++i;
      } else if (c == '\'' || c == '"') {
        std::string text;
        ++i;
        while (i < src_.size() && src_[i] != c) {
          // Only quotes and backslashes are escaped; `\d` stays for regular expressions.
          if (src_[i] == '\\' && i + 1 < src_.size() && (src_[i + 1] == c || src_[i + 1] == '\\')) {
            text += src_[++i];
          } else {
            text += src_[i];
          }
          ++i;
        }
        if (i >= src_.size()) return Fail(Fault("unterminated string", start));
        ++i;
        tokens_.push_back({TokenKind::kValue, {}, Json(std::move(text)), start});
      } else if (c == '[') {  // govaluate's escaped variable name: a string here
        size_t close = src_.find(']', i);
        if (close == std::string_view::npos) return Fail(Fault("unterminated '['", start));
        tokens_.push_back(
            {TokenKind::kValue, {}, Json(std::string(src_.substr(i + 1, close - i - 1))), start});
        i = close + 1;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        ReadNumberOrWord(&i);
      } else if (IsWordStart(c)) {
        while (i < src_.size() && (IsWordChar(src_[i]) || (src_[i] == '-' && i + 1 < src_.size() &&
                                                           IsWordChar(src_[i + 1])))) {
          ++i;
        }
        std::string word(src_.substr(start, i - start));
        if (word == "true" || word == "false") {
          tokens_.push_back({TokenKind::kValue, {}, Json(word == "true"), start});
        } else if (word == "in") {
          tokens_.push_back({TokenKind::kOp, "in", {}, start});
        } else {
          tokens_.push_back({TokenKind::kValue, {}, Json(std::move(word)), start});
        }
      } else {
        std::string_view op;
        for (std::string_view candidate : kOps) {
          if (src_.substr(i, candidate.size()) == candidate) {
            op = candidate;
            break;
          }
        }
        if (op.empty()) {
          return Fail(
              Fault(std::string("invalid character '") + c + "' (hint: wrap the value in quotes)",
                    start));
        }
        tokens_.push_back({TokenKind::kOp, std::string(op), {}, start});
        i += op.size();
      }
    }
    tokens_.push_back({TokenKind::kEnd, {}, {}, src_.size()});
    return {};
  }

  // A number such as 3, 2.5 or 1e3; a run like "1abc" or "1.2.3" is a string word instead.
  void ReadNumberOrWord(size_t* i) {
    size_t start = *i;
    auto digits = [&] {
      while (*i < src_.size() && std::isdigit(static_cast<unsigned char>(src_[*i]))) ++*i;
    };
    digits();
    if (*i + 1 < src_.size() && src_[*i] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[*i + 1]))) {
      ++*i;
      digits();
    }
    if (*i < src_.size() && (src_[*i] == 'e' || src_[*i] == 'E')) {
      size_t save = *i;
      ++*i;
      if (*i < src_.size() && (src_[*i] == '+' || src_[*i] == '-')) ++*i;
      size_t exp_start = *i;
      digits();
      if (*i == exp_start) *i = save;
    }
    if (*i < src_.size() && IsWordChar(src_[*i])) {
      while (*i < src_.size() && IsWordChar(src_[*i])) ++*i;
      tokens_.push_back(
          {TokenKind::kValue, {}, Json(std::string(src_.substr(start, *i - start))), start});
      return;
    }
    std::string spelling(src_.substr(start, *i - start));
    double number = std::strtod(spelling.c_str(), nullptr);
    tokens_.push_back({TokenKind::kValue, std::move(spelling), Json(number), start});
  }

  const Token& Peek() const { return tokens_[next_]; }
  bool IsOp(std::string_view op) const { return Peek().kind == TokenKind::kOp && Peek().op == op; }

  Result<std::unique_ptr<Node>> Make(Node::Kind kind, std::string op, size_t pos,
                                     std::vector<std::unique_ptr<Node>> kids) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->op = std::move(op);
    node->pos = pos;
    for (const auto& kid : kids) node->depth = std::max(node->depth, kid->depth + 1);
    if (node->depth > internal::kMaxTreeDepth) return Fail(Fault("expression too deep", pos));
    node->kids = std::move(kids);
    return node;
  }

  // Precedence climbing: 0 `??`, 1 `||`, 2 `&&`, 3 comparisons, 4 `+ -`, 5 `* / %`, 6 `**`.
  static int Precedence(const Token& t) {
    if (t.kind != TokenKind::kOp) return -1;
    const std::string& op = t.op;
    if (op == "??") return 0;
    if (op == "||") return 1;
    if (op == "&&") return 2;
    if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" ||
        op == "=~" || op == "!~" || op == "in") {
      return 3;
    }
    if (op == "+" || op == "-") return 4;
    if (op == "*" || op == "/" || op == "%") return 5;
    if (op == "**") return 6;
    return -1;
  }

  Result<std::unique_ptr<Node>> ParseTernary() {
    if (++nesting_ > internal::kMaxNesting) return Fail(Fault("expression nested too deeply"));
    auto cond = ParseBinary(0);
    if (cond.ok() && IsOp("?")) {
      size_t pos = Peek().pos;
      ++next_;
      std::vector<std::unique_ptr<Node>> kids;
      kids.push_back(std::move(*cond));
      auto then_branch = ParseTernary();
      if (!then_branch.ok()) return then_branch;
      kids.push_back(std::move(*then_branch));
      if (IsOp(":")) {
        ++next_;
        auto else_branch = ParseTernary();
        if (!else_branch.ok()) return else_branch;
        kids.push_back(std::move(*else_branch));
      }
      cond = Make(Node::Kind::kTernary, "?", pos, std::move(kids));
    }
    --nesting_;
    return cond;
  }

  Result<std::unique_ptr<Node>> ParseBinary(int min_precedence) {
    auto left = ParseUnary();
    if (!left.ok()) return left;
    while (true) {
      int precedence = Precedence(Peek());
      if (precedence < min_precedence) break;
      Token op = Peek();
      ++next_;
      // `**` is right-associative; everything else is left-associative.
      auto right = ParseBinary(op.op == "**" ? precedence : precedence + 1);
      if (!right.ok()) return right;
      std::vector<std::unique_ptr<Node>> kids;
      kids.push_back(std::move(*left));
      kids.push_back(std::move(*right));
      left = Make(Node::Kind::kBinary, op.op, op.pos, std::move(kids));
      if (!left.ok()) return left;
    }
    return left;
  }

  Result<std::unique_ptr<Node>> ParseUnary() {
    if (IsOp("!") || IsOp("-")) {
      Token op = Peek();
      ++next_;
      if (++nesting_ > internal::kMaxNesting) return Fail(Fault("expression nested too deeply"));
      auto operand = ParseUnary();
      --nesting_;
      if (!operand.ok()) return operand;
      std::vector<std::unique_ptr<Node>> kids;
      kids.push_back(std::move(*operand));
      return Make(Node::Kind::kUnary, op.op, op.pos, std::move(kids));
    }
    return ParsePrimary();
  }

  Result<std::unique_ptr<Node>> ParsePrimary() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kValue) {
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kValue;
      node->value = t.value;
      node->op = t.op;
      node->pos = t.pos;
      ++next_;
      return node;
    }
    if (t.kind == TokenKind::kOpen) {
      size_t pos = t.pos;
      ++next_;
      std::vector<std::unique_ptr<Node>> items;
      bool list = false;
      while (true) {
        auto item = ParseTernary();
        if (!item.ok()) return item;
        items.push_back(std::move(*item));
        if (Peek().kind != TokenKind::kComma) break;
        list = true;
        ++next_;
      }
      if (Peek().kind != TokenKind::kClose) {
        return Fail(Fault("expected ')' to close '(' at column " + std::to_string(pos + 1) +
                          ", got '" + Describe(Peek()) + "'"));
      }
      ++next_;
      if (!list) return std::move(items.front());
      return Make(Node::Kind::kList, "", pos, std::move(items));
    }
    return Fail(Fault("unexpected '" + Describe(t) + "'"));
  }

  Result<Json> Eval(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kValue:
        return n.value;
      case Node::Kind::kList: {
        Json list = Json::array();
        for (const auto& kid : n.kids) {
          auto v = Eval(*kid);
          if (!v.ok()) return v;
          list.push_back(std::move(*v));
        }
        return list;
      }
      case Node::Kind::kTernary: {
        auto cond = Eval(*n.kids[0]);
        if (!cond.ok()) return cond;
        if (!cond->is_boolean()) return Fail(Fault("'?' needs a boolean condition", n.pos));
        if (cond->get<bool>()) return Eval(*n.kids[1]);
        if (n.kids.size() > 2) return Eval(*n.kids[2]);
        return Json();
      }
      case Node::Kind::kUnary: {
        auto v = Eval(*n.kids[0]);
        if (!v.ok()) return v;
        if (n.op == "!") {
          if (!v->is_boolean()) return Fail(TypeError(n, *v));
          return Json(!v->get<bool>());
        }
        if (!v->is_number()) return Fail(TypeError(n, *v));
        return Json(-v->get<double>());
      }
      case Node::Kind::kBinary:
        return EvalBinary(n);
    }
    return Json();
  }

  Error TypeError(const Node& n, const Json& v) const {
    return Fault("'" + n.op + "' cannot be used with " + internal::TypeName(v) + " '" +
                     internal::Excerpt(internal::Text(v), 32) + "'",
                 n.pos);
  }

  Result<Json> EvalBinary(const Node& n) {
    const std::string& op = n.op;
    auto left = Eval(*n.kids[0]);
    if (!left.ok()) return left;
    if (op == "&&" || op == "||") {
      if (!left->is_boolean()) return Fail(TypeError(n, *left));
      bool l = left->get<bool>();
      if (op == "&&" ? !l : l) return Json(l);
      auto right = Eval(*n.kids[1]);
      if (!right.ok()) return right;
      if (!right->is_boolean()) return Fail(TypeError(n, *right));
      return right;
    }
    if (op == "??") return left->is_null() ? Eval(*n.kids[1]) : left;
    auto right = Eval(*n.kids[1]);
    if (!right.ok()) return right;
    const Json& a = *left;
    const Json& b = *right;
    if (op == "==") return Json(a == b);
    if (op == "!=") return Json(a != b);
    if (op == "in") {
      if (!b.is_array()) return Json(a == b);
      for (const Json& item : b) {
        if (item == a) return Json(true);
      }
      return Json(false);
    }
    if (op == "=~" || op == "!~") {
      if (a.is_structured() || a.is_null()) return Fail(TypeError(n, a));
      if (!b.is_string()) return Fail(TypeError(n, b));
      std::string error;
      auto matched = internal::RegexSearch(SourceText(*n.kids[0], a), b.get<std::string>(), &error);
      if (!matched) return Fail(Fault(error, n.kids[1]->pos));
      return Json(op == "=~" ? *matched : !*matched);
    }
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      int cmp;
      if (a.is_number() && b.is_number()) {
        double x = a.get<double>();
        double y = b.get<double>();
        cmp = x < y ? -1 : x > y ? 1 : 0;
      } else if (a.is_string() && b.is_string()) {
        cmp = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      } else {
        return Fail(Fault("cannot compare " + internal::TypeName(a) + " '" +
                              internal::Excerpt(internal::Text(a), 32) + "' with " +
                              internal::TypeName(b) + " '" +
                              internal::Excerpt(internal::Text(b), 32) + "'",
                          n.pos));
      }
      bool result = op == "<" ? cmp < 0 : op == "<=" ? cmp <= 0 : op == ">" ? cmp > 0 : cmp >= 0;
      return Json(result);
    }
    if (op == "+" && (a.is_string() || b.is_string())) {
      if (a.is_structured() || b.is_structured()) return Fail(TypeError(n, a.is_string() ? b : a));
      return Json(SourceText(*n.kids[0], a) + SourceText(*n.kids[1], b));
    }
    if (!a.is_number()) return Fail(TypeError(n, a));
    if (!b.is_number()) return Fail(TypeError(n, b));
    double x = a.get<double>();
    double y = b.get<double>();
    if (op == "+") return Json(x + y);
    if (op == "-") return Json(x - y);
    if (op == "*") return Json(x * y);
    if (op == "/") return Json(x / y);
    if (op == "%") return Json(std::fmod(x, y));
    return Json(std::pow(x, y));
  }

  // Text of a value for string operations; numbers keep the spelling they had in the source.
  static std::string SourceText(const Node& node, const Json& value) {
    if (node.kind == Node::Kind::kValue && value.is_number()) return node.op;
    return internal::Text(value);
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int nesting_ = 0;
};

}  // namespace

Result<bool> EvaluateWhen(std::string_view condition) {
  bool blank = condition.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) return true;
  return WhenEvaluator(condition).Run();
}

}  // namespace hubspoke::expr
