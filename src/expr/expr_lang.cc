// The expr dialect (github.com/expr-lang/expr as Argo uses it): lexer, Pratt parser, evaluator.
#include "expr/expr_lang.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <limits>
#include <memory>

#include "expr/builtins.h"

namespace hubspoke::expr {
namespace internal {
namespace {

enum class Tok { kEnd, kNumber, kString, kName, kPointer, kPunct };

struct Token {
  Tok kind;
  std::string text;  // name, punctuation, or the pointer's name after '#'
  Json value;        // number and string literals
  size_t pos;
};

struct Node {
  enum class Kind {
    kLiteral,
    kName,
    kPointer,
    kMember,
    kIndex,
    kSlice,
    kCall,
    kMethod,  // kids: receiver, then arguments
    kUnary,
    kBinary,
    kTernary,
    kArray,
    kMap,
    kClosure
  };
  Kind kind;
  size_t pos = 0;
  std::string name;       // variable, property, operator or function
  Json value;             // literal
  bool optional = false;  // `?.`
  int depth = 1;
  std::vector<std::unique_ptr<Node>> kids;  // kSlice: object, start or null, end or null
};

using NodePtr = std::unique_ptr<Node>;

constexpr std::string_view kClosureFunctions[] = {"filter", "map",   "all",  "any",      "none",
                                                  "one",    "count", "find", "findIndex"};

bool IsClosureFunction(std::string_view name) {
  for (std::string_view f : kClosureFunctions) {
    if (f == name) return true;
  }
  return false;
}

// Methods of Go's time.Time and time.Duration that expressions may call (`d.Seconds()`).
constexpr std::string_view kMethods[] = {"Hours", "Minutes", "Seconds", "Milliseconds", "Unix"};

bool IsMethod(std::string_view name) {
  return std::find(std::begin(kMethods), std::end(kMethods), name) != std::end(kMethods);
}

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (i_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[i_]))) ++i_;
      if (i_ >= src_.size()) break;
      size_t start = i_;
      char c = src_[i_];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        auto number = Number();
        if (!number.ok()) return number.error();
        tokens.push_back({Tok::kNumber, "", std::move(*number), start});
      } else if (c == '"' || c == '\'' || c == '`') {
        auto text = String(c);
        if (!text.ok()) return text.error();
        tokens.push_back({Tok::kString, "", Json(std::move(*text)), start});
      } else if (c == '#') {
        ++i_;
        while (i_ < src_.size() && IsIdentChar(src_[i_])) ++i_;
        tokens.push_back(
            {Tok::kPointer, std::string(src_.substr(start + 1, i_ - start - 1)), {}, start});
      } else if (IsIdentStart(c)) {
        while (i_ < src_.size() && IsIdentChar(src_[i_])) ++i_;
        tokens.push_back({Tok::kName, std::string(src_.substr(start, i_ - start)), {}, start});
      } else {
        std::string_view punct = Punct();
        if (punct.empty()) {
          return Fault(std::string("unexpected character '") + c + "'", start);
        }
        tokens.push_back({Tok::kPunct, std::string(punct), {}, start});
      }
    }
    tokens.push_back({Tok::kEnd, "", {}, src_.size()});
    return tokens;
  }

 private:
  Error Fault(const std::string& message, size_t pos) const {
    return InvalidArgument(DescribeError("invalid expression", src_, message, pos));
  }

  std::string_view Punct() {
    static constexpr std::string_view kPuncts[] = {
        "?.", "??", "**", "==", "!=", "<=", ">=", "&&", "||", "..", "+", "-", "*", "/", "%",
        "^",  "<",  ">",  "!",  "?",  ":",  ".",  ",",  "(",  ")",  "[", "]", "{", "}"};
    for (std::string_view p : kPuncts) {
      if (src_.substr(i_, p.size()) != p) continue;
      // `a ?.5 : b` is a ternary, not optional chaining.
      if (p == "?." && i_ + 2 < src_.size() &&
          std::isdigit(static_cast<unsigned char>(src_[i_ + 2]))) {
        continue;
      }
      i_ += p.size();
      return p;
    }
    return {};
  }

  Result<Json> Number() {
    size_t start = i_;
    auto digits = [&](bool hex) {
      while (i_ < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[i_])) ||
              (hex && std::isxdigit(static_cast<unsigned char>(src_[i_]))) || src_[i_] == '_')) {
        ++i_;
      }
    };
    bool is_float = false;
    bool hex = src_.substr(i_, 2) == "0x" || src_.substr(i_, 2) == "0X";
    if (hex) {
      i_ += 2;
      digits(true);
    } else {
      digits(false);
      if (i_ + 1 < src_.size() && src_[i_] == '.' &&
          std::isdigit(static_cast<unsigned char>(src_[i_ + 1]))) {
        is_float = true;
        ++i_;
        digits(false);
      }
      if (i_ < src_.size() && (src_[i_] == 'e' || src_[i_] == 'E')) {
        size_t save = i_++;
        if (i_ < src_.size() && (src_[i_] == '+' || src_[i_] == '-')) ++i_;
        if (i_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[i_]))) {
          is_float = true;
          digits(false);
        } else {
          i_ = save;
        }
      }
    }
    if (i_ < src_.size() && IsIdentChar(src_[i_])) return Fault("invalid number", start);
    std::string text;
    for (char c : src_.substr(start, i_ - start)) {
      if (c != '_') text += c;
    }
    errno = 0;
    if (!is_float) {
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, hex ? 16 : 10);
      if (errno == 0 && *end == '\0') return Json(static_cast<int64_t>(v));
      if (hex) return Fault("integer literal out of range", start);
    }
    return Json(std::strtod(text.c_str(), nullptr));
  }

  Result<std::string> String(char quote) {
    size_t start = i_++;
    std::string out;
    while (i_ < src_.size() && src_[i_] != quote) {
      char c = src_[i_++];
      if (c != '\\' || quote == '`') {
        out += c;
        continue;
      }
      if (i_ >= src_.size()) break;
      char e = src_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'u': {
          if (i_ + 4 > src_.size()) return Fault("bad \\u escape", i_ - 2);
          uint32_t cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = src_[i_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) {
              return Fault("bad \\u escape", i_ - 1);
            }
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : std::tolower(h) - 'a' + 10);
          }
          AppendUtf8(cp, &out);
          break;
        }
        case '\\':
        case '\'':
        case '"':
        case '`':
          out += e;
          break;
        default:  // kept for regular expressions such as '\d+'
          out += '\\';
          out += e;
      }
    }
    if (i_ >= src_.size()) return Fault("unterminated string", start);
    ++i_;
    return out;
  }

  std::string_view src_;
  size_t i_ = 0;
};

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens) : src_(src), tokens_(std::move(tokens)) {}

  Result<NodePtr> Run() {
    auto root = ParseTernary();
    if (!root.ok()) return root;
    if (Peek().kind != Tok::kEnd) return Fault("unexpected " + Describe(Peek()));
    return root;
  }

 private:
  Error Fault(const std::string& message, std::optional<size_t> pos = std::nullopt) const {
    return InvalidArgument(
        DescribeError("invalid expression", src_, message, pos ? *pos : Peek().pos));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kNumber:
      case Tok::kString:
        return "'" + Excerpt(Text(t.value), 32) + "'";
      case Tok::kPointer:
        return "'#" + t.text + "'";
      default:
        return "'" + t.text + "'";
    }
  }

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  bool IsPunct(std::string_view p, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kPunct && Peek(ahead).text == p;
  }
  bool IsName(std::string_view n, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kName && Peek(ahead).text == n;
  }
  Status Expect(std::string_view p, size_t open_pos, std::string_view open) {
    if (IsPunct(p)) {
      ++next_;
      return {};
    }
    return Fault("expected '" + std::string(p) + "' to close '" + std::string(open) +
                 "' at column " + std::to_string(open_pos + 1) + ", got " + Describe(Peek()));
  }

  Result<NodePtr> Make(Node::Kind kind, size_t pos, std::string name,
                       std::vector<NodePtr> kids) const {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->pos = pos;
    node->name = std::move(name);
    for (const NodePtr& kid : kids) {
      if (kid) node->depth = std::max(node->depth, kid->depth + 1);
    }
    if (node->depth > kMaxTreeDepth) return Fault("expression too deep", pos);
    node->kids = std::move(kids);
    return node;
  }

  static std::vector<NodePtr> Kids(NodePtr a, NodePtr b = nullptr, NodePtr c = nullptr) {
    std::vector<NodePtr> kids;
    kids.push_back(std::move(a));
    if (b) kids.push_back(std::move(b));
    if (c) kids.push_back(std::move(c));
    return kids;
  }

  Result<NodePtr> ParseTernary() {
    if (++nesting_ > kMaxNesting) return Fault("expression nested too deeply");
    auto cond = ParseBinary(0);
    if (cond.ok() && IsPunct("?")) {
      size_t pos = Peek().pos;
      ++next_;
      auto then_branch = ParseTernary();
      if (!then_branch.ok()) return then_branch;
      if (!IsPunct(":")) return Fault("expected ':' in '?:' at column " + std::to_string(pos + 1));
      ++next_;
      auto else_branch = ParseTernary();
      if (!else_branch.ok()) return else_branch;
      cond = Make(Node::Kind::kTernary, pos, "?",
                  Kids(std::move(*cond), std::move(*then_branch), std::move(*else_branch)));
    }
    --nesting_;
    return cond;
  }

  // Binary operator at the cursor: precedence (or -1), canonical name, tokens it spans.
  int BinaryOperator(std::string* op, size_t* width, bool* right_assoc) const {
    const Token& t = Peek();
    *width = 1;
    *right_assoc = false;
    if (t.kind == Tok::kName) {
      if (t.text == "or") return *op = "||", 10;
      if (t.text == "and") return *op = "&&", 15;
      if (t.text == "in" || t.text == "matches" || t.text == "contains" || t.text == "startsWith" ||
          t.text == "endsWith") {
        return *op = t.text, 20;
      }
      if (t.text == "not" && IsName("in", 1)) {
        *width = 2;
        return *op = "not in", 20;
      }
      return -1;
    }
    if (t.kind != Tok::kPunct) return -1;
    *op = t.text;
    if (t.text == "||") return 10;
    if (t.text == "&&") return 15;
    if (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" ||
        t.text == ">=") {
      return 20;
    }
    if (t.text == "..") return 25;
    if (t.text == "+" || t.text == "-") return 30;
    if (t.text == "*" || t.text == "/" || t.text == "%") return 60;
    if (t.text == "**" || t.text == "^") {
      *right_assoc = true;
      *op = "**";
      return 100;
    }
    if (t.text == "??") return 500;
    return -1;
  }

  Result<NodePtr> ParseBinary(int min_precedence) {
    auto left = ParseUnary();
    while (left.ok()) {
      std::string op;
      size_t width;
      bool right_assoc;
      int precedence = BinaryOperator(&op, &width, &right_assoc);
      if (precedence < 0 || precedence < min_precedence) break;
      size_t pos = Peek().pos;
      next_ += width;
      auto right = ParseBinary(right_assoc ? precedence : precedence + 1);
      if (!right.ok()) return right;
      left = Make(Node::Kind::kBinary, pos, op, Kids(std::move(*left), std::move(*right)));
    }
    return left;
  }

  Result<NodePtr> ParseUnary() {
    if (++nesting_ > kMaxNesting) return Fault("expression nested too deeply");
    Result<NodePtr> node = NodePtr();
    size_t pos = Peek().pos;
    if (IsName("not") || IsPunct("!")) {
      ++next_;
      auto operand = ParseBinary(50);
      if (!operand.ok()) return operand;
      node = Make(Node::Kind::kUnary, pos, "!", Kids(std::move(*operand)));
    } else if (IsPunct("-") || IsPunct("+")) {
      std::string op = Peek().text;
      ++next_;
      auto operand = ParseBinary(90);
      if (!operand.ok()) return operand;
      node = Make(Node::Kind::kUnary, pos, op, Kids(std::move(*operand)));
    } else {
      node = ParsePrimary();
      if (node.ok()) node = ParsePostfix(std::move(*node));
    }
    --nesting_;
    return node;
  }

  Result<NodePtr> ParsePrimary() {
    const Token& t = Peek();
    size_t pos = t.pos;
    if (t.kind == Tok::kNumber || t.kind == Tok::kString) {
      ++next_;
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kLiteral;
      node->pos = pos;
      node->value = t.value;
      return node;
    }
    if (t.kind == Tok::kPointer) {
      if (closure_depth_ == 0) return Fault("'#' is only allowed inside a closure");
      ++next_;
      return Make(Node::Kind::kPointer, pos, t.text, {});
    }
    if (t.kind == Tok::kName) {
      ++next_;
      if (t.text == "true" || t.text == "false" || t.text == "nil") {
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::kLiteral;
        node->pos = pos;
        node->value = t.text == "nil" ? Json() : Json(t.text == "true");
        return node;
      }
      return Make(Node::Kind::kName, pos, t.text, {});
    }
    if (IsPunct(".") && closure_depth_ > 0 && Peek(1).kind == Tok::kName) {
      // `.field` inside a closure is `#.field`.
      auto pointer = Make(Node::Kind::kPointer, pos, "", {});
      return pointer;
    }
    if (IsPunct("(")) {
      ++next_;
      auto inner = ParseTernary();
      if (!inner.ok()) return inner;
      if (Status s = Expect(")", pos, "("); !s.ok()) return s.error();
      return inner;
    }
    if (IsPunct("[")) {
      ++next_;
      std::vector<NodePtr> items;
      while (!IsPunct("]")) {
        auto item = ParseTernary();
        if (!item.ok()) return item;
        items.push_back(std::move(*item));
        if (!IsPunct(",")) break;
        ++next_;
      }
      if (Status s = Expect("]", pos, "["); !s.ok()) return s.error();
      return Make(Node::Kind::kArray, pos, "", std::move(items));
    }
    if (IsPunct("{")) {
      ++next_;
      std::vector<NodePtr> entries;
      while (!IsPunct("}")) {
        const Token& key = Peek();
        if (key.kind != Tok::kName && key.kind != Tok::kString && key.kind != Tok::kNumber) {
          return Fault("expected a map key, got " + Describe(key));
        }
        auto key_node = std::make_unique<Node>();
        key_node->kind = Node::Kind::kLiteral;
        key_node->pos = key.pos;
        key_node->value = key.kind == Tok::kName ? Json(key.text) : Json(Text(key.value));
        ++next_;
        if (!IsPunct(":")) return Fault("expected ':' after map key, got " + Describe(Peek()));
        ++next_;
        auto value = ParseTernary();
        if (!value.ok()) return value;
        entries.push_back(std::move(key_node));
        entries.push_back(std::move(*value));
        if (!IsPunct(",")) break;
        ++next_;
      }
      if (Status s = Expect("}", pos, "{"); !s.ok()) return s.error();
      return Make(Node::Kind::kMap, pos, "", std::move(entries));
    }
    return Fault("unexpected " + Describe(t));
  }

  // Name of a call target: `f` or a dotted chain `sprig.trim`; empty when not a plain name.
  static std::string CalleeName(const Node& n) {
    if (n.kind == Node::Kind::kName) return n.name;
    if (n.kind == Node::Kind::kMember && !n.optional) {
      std::string base = CalleeName(*n.kids[0]);
      if (!base.empty()) return base + "." + n.name;
    }
    return "";
  }

  Result<NodePtr> ParsePostfix(NodePtr node) {
    while (true) {
      size_t pos = Peek().pos;
      bool optional = IsPunct("?.");
      if (IsPunct(".") || (optional && !IsPunct("[", 1))) {
        ++next_;
        if (Peek().kind != Tok::kName) return Fault("expected a field name after '.'");
        std::string field = Peek().text;
        ++next_;
        auto member = Make(Node::Kind::kMember, pos, field, Kids(std::move(node)));
        if (!member.ok()) return member;
        node = std::move(*member);
        node->optional = optional;
      } else if (IsPunct("[") || optional) {
        next_ += optional ? 2 : 1;
        auto access = ParseIndex(std::move(node), pos);
        if (!access.ok()) return access;
        node = std::move(*access);
        node->optional = optional;
      } else if (IsPunct("(") && node->kind == Node::Kind::kMember && !node->optional &&
                 IsMethod(node->name)) {
        ++next_;
        auto call = ParseCall(node->name, node->pos, pos);
        if (!call.ok()) return call;
        std::vector<NodePtr> kids;
        kids.push_back(std::move(node->kids[0]));
        for (NodePtr& arg : (*call)->kids) kids.push_back(std::move(arg));
        auto method = Make(Node::Kind::kMethod, (*call)->pos, (*call)->name, std::move(kids));
        if (!method.ok()) return method;
        node = std::move(*method);
      } else if (IsPunct("(")) {
        std::string callee = CalleeName(*node);
        if (callee.empty()) return Fault("only named functions can be called");
        ++next_;
        auto call = ParseCall(callee, node->pos, pos);
        if (!call.ok()) return call;
        node = std::move(*call);
      } else {
        return node;
      }
    }
  }

  // After '[': `[i]`, `[a:b]`, `[:b]`, `[a:]`.
  Result<NodePtr> ParseIndex(NodePtr object, size_t pos) {
    NodePtr start;
    if (!IsPunct(":")) {
      auto index = ParseTernary();
      if (!index.ok()) return index;
      start = std::move(*index);
      if (!IsPunct(":")) {
        if (Status s = Expect("]", pos, "["); !s.ok()) return s.error();
        return Make(Node::Kind::kIndex, pos, "", Kids(std::move(object), std::move(start)));
      }
    }
    ++next_;  // ':'
    NodePtr end;
    if (!IsPunct("]")) {
      auto e = ParseTernary();
      if (!e.ok()) return e;
      end = std::move(*e);
    }
    if (Status s = Expect("]", pos, "["); !s.ok()) return s.error();
    std::vector<NodePtr> kids;
    kids.push_back(std::move(object));
    kids.push_back(std::move(start));
    kids.push_back(std::move(end));
    return Make(Node::Kind::kSlice, pos, "", std::move(kids));
  }

  Result<NodePtr> ParseCall(const std::string& callee, size_t pos, size_t open) {
    std::vector<NodePtr> args;
    bool closure = IsClosureFunction(callee);
    while (!IsPunct(")")) {
      Result<NodePtr> arg = NodePtr();
      if (closure && args.size() == 1) {
        arg = ParseClosure();
      } else {
        arg = ParseTernary();
      }
      if (!arg.ok()) return arg;
      args.push_back(std::move(*arg));
      if (!IsPunct(",")) break;
      ++next_;
    }
    if (Status s = Expect(")", open, "("); !s.ok()) return s.error();
    if (closure && args.size() != 2) {
      return Fault(callee + "() expects a list and a closure such as {# > 0}", pos);
    }
    return Make(Node::Kind::kCall, pos, callee, std::move(args));
  }

  // `{ body }` or a bare body; `#` is the current element inside.
  Result<NodePtr> ParseClosure() {
    size_t pos = Peek().pos;
    bool braced = IsPunct("{");
    if (braced) ++next_;
    ++closure_depth_;
    auto body = ParseTernary();
    --closure_depth_;
    if (!body.ok()) return body;
    if (braced) {
      if (Status s = Expect("}", pos, "{"); !s.ok()) return s.error();
    }
    return Make(Node::Kind::kClosure, pos, "", Kids(std::move(*body)));
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int nesting_ = 0;
  int closure_depth_ = 0;
};

struct Frame {
  const Json* element;
  int64_t index;
};

class Evaluator {
 public:
  Evaluator(std::string_view src, const Scope& scope) : src_(src), scope_(scope) {}

  bool unresolved() const { return unresolved_; }

  Result<Json> Eval(const Node& n) {
    if (!Charge(1)) return Fault("expression does too much work", n.pos);
    switch (n.kind) {
      case Node::Kind::kLiteral:
        return n.value;
      case Node::Kind::kName:
      case Node::Kind::kMember:
      case Node::Kind::kIndex: {
        std::vector<std::string> path;
        if (StaticPath(n, &path)) return Resolve(path, n.pos);
        if (n.kind == Node::Kind::kName) return Fault("unknown name '" + n.name + "'", n.pos);
        auto object = Eval(*n.kids[0]);
        if (!object.ok()) return object;
        Json key = Json(n.name);
        if (n.kind == Node::Kind::kIndex) {
          auto index = Eval(*n.kids[1]);
          if (!index.ok()) return index;
          key = std::move(*index);
        }
        return Access(std::move(*object), key, n.optional, n.pos);
      }
      case Node::Kind::kPointer: {
        if (frames_.empty()) return Fault("'#' outside a closure", n.pos);
        if (n.name.empty()) return *frames_.back().element;
        if (n.name == "index") return Json(frames_.back().index);
        return Fault("unknown closure variable '#" + n.name + "'", n.pos);
      }
      case Node::Kind::kSlice:
        return EvalSlice(n);
      case Node::Kind::kCall:
        return EvalCall(n);
      case Node::Kind::kMethod:
        return EvalMethod(n);
      case Node::Kind::kUnary: {
        auto v = Eval(*n.kids[0]);
        if (!v.ok()) return v;
        if (n.name == "!") {
          auto b = ToBool(*v);
          if (!b) return TypeError("!", *v, n.pos);
          return Json(!*b);
        }
        if (auto d = DurationNanos(*v); d && *d != std::numeric_limits<int64_t>::min()) {
          return n.name == "+" ? *v : DurationJson(-*d);
        }
        if (!v->is_number()) return TypeError(n.name, *v, n.pos);
        if (n.name == "+") return v;
        if (auto i = Int64Of(*v); i && *i != std::numeric_limits<int64_t>::min()) {
          return Json(-*i);
        }
        return Json(-v->get<double>());
      }
      case Node::Kind::kBinary:
        return EvalBinary(n);
      case Node::Kind::kTernary: {
        auto cond = Eval(*n.kids[0]);
        if (!cond.ok()) return cond;
        auto b = ToBool(*cond);
        if (!b) return Fault("'?:' needs a bool condition, got " + TypeName(*cond), n.pos);
        return Eval(*n.kids[*b ? 1 : 2]);
      }
      case Node::Kind::kArray: {
        Json list = Json::array();
        for (const NodePtr& kid : n.kids) {
          auto v = Eval(*kid);
          if (!v.ok()) return v;
          list.push_back(std::move(*v));
        }
        return list;
      }
      case Node::Kind::kMap: {
        Json map = Json::object();
        for (size_t k = 0; k + 1 < n.kids.size(); k += 2) {
          auto v = Eval(*n.kids[k + 1]);
          if (!v.ok()) return v;
          map[n.kids[k]->value.get<std::string>()] = std::move(*v);
        }
        return map;
      }
      case Node::Kind::kClosure:
        break;
    }
    return Fault("a closure can only be an argument of filter, map, all, any, ...", n.pos);
  }

 private:
  Error Fault(const std::string& message, size_t pos) const {
    return InvalidArgument(DescribeError("cannot evaluate expression", src_, message, pos));
  }
  // Counts work against kMaxWork; false once the budget is spent.
  bool Charge(size_t units) {
    work_ += units;
    return work_ <= kMaxWork;
  }

  // Work units for a value just built: one per element, one per 16 bytes of text.
  static size_t Cost(const Json& v) {
    if (v.is_string()) return v.get_ref<const std::string&>().size() / 16;
    return v.is_structured() ? v.size() : 0;
  }

  Error TypeError(const std::string& op, const Json& v, size_t pos) const {
    return Fault("invalid operation: " + op + " " + TypeName(v) + " '" + Excerpt(Text(v), 32) + "'",
                 pos);
  }
  Error TypeError(const std::string& op, const Json& a, const Json& b, size_t pos) const {
    return Fault("invalid operation: " + TypeName(a) + " " + op + " " + TypeName(b), pos);
  }

  // `a.b["c-d"]` rooted at a variable name, as the dotted segments a, b, c-d.
  static bool StaticPath(const Node& n, std::vector<std::string>* path) {
    if (n.optional) return false;
    if (n.kind == Node::Kind::kName) {
      path->push_back(n.name);
      return true;
    }
    if (n.kind == Node::Kind::kMember) {
      if (!StaticPath(*n.kids[0], path)) return false;
      path->push_back(n.name);
      return true;
    }
    if (n.kind == Node::Kind::kIndex && n.kids[1]->kind == Node::Kind::kLiteral &&
        n.kids[1]->value.is_string()) {
      if (!StaticPath(*n.kids[0], path)) return false;
      path->push_back(n.kids[1]->value.get<std::string>());
      return true;
    }
    return false;
  }

  // The longest dotted prefix the scope knows, then member access for the rest.
  Result<Json> Resolve(const std::vector<std::string>& path, size_t pos) {
    for (size_t k = path.size(); k > 0; --k) {
      std::string name = path[0];
      for (size_t j = 1; j < k; ++j) name += "." + path[j];
      Json value;
      if (std::optional<TypedValue> typed = scope_.LookupTyped(name)) {
        if (!typed->nil) value = TimeJson(typed->time * 1000);
      } else if (std::optional<std::string> found = scope_.Lookup(name)) {
        value = std::move(*found);
      } else {
        continue;
      }
      for (size_t j = k; j < path.size(); ++j) {
        auto next = Access(std::move(value), Json(path[j]), false, pos);
        if (!next.ok()) return next;
        value = std::move(*next);
      }
      return value;
    }
    std::string name = path[0];
    for (size_t j = 1; j < path.size(); ++j) name += "." + path[j];
    unresolved_ = true;
    return Fault("unknown variable '" + name + "'", pos);
  }

  Result<Json> Access(Json object, const Json& key, bool optional, size_t pos) {
    if (object.is_string()) {
      // A scope value holding a JSON map or list can be looked into.
      if (auto parsed = ParseJson(object.get_ref<const std::string&>());
          parsed && parsed->is_structured()) {
        object = std::move(*parsed);
      }
    }
    std::string key_text = Excerpt(Text(key), 32);
    if (object.is_object()) {
      if (!key.is_string()) return Fault("map key must be a string, got " + TypeName(key), pos);
      auto it = object.find(key.get_ref<const std::string&>());
      if (it == object.end()) return Json();
      return std::move(*it);
    }
    if (object.is_array() || object.is_string()) {
      auto index = Int64Of(key);
      if (!index) {
        return Fault("cannot fetch '" + key_text + "' from " + TypeName(object), pos);
      }
      auto size = static_cast<int64_t>(
          object.is_array() ? object.size() : object.get_ref<const std::string&>().size());
      int64_t i = *index < 0 ? *index + size : *index;
      if (i < 0 || i >= size) {
        return Fault("index " + std::to_string(*index) + " out of range (length " +
                         std::to_string(size) + ")",
                     pos);
      }
      if (object.is_array()) return std::move(object[static_cast<size_t>(i)]);
      return Json(std::string(1, object.get_ref<const std::string&>()[static_cast<size_t>(i)]));
    }
    if (object.is_null() && optional) return Json();
    return Fault("cannot fetch '" + key_text + "' from " + TypeName(object), pos);
  }

  Result<Json> EvalSlice(const Node& n) {
    auto object = Eval(*n.kids[0]);
    if (!object.ok()) return object;
    if (object->is_string()) {
      if (auto list = ToList(*object)) object = std::move(*list);
    }
    if (!object->is_array() && !object->is_string()) {
      return Fault("cannot slice " + TypeName(*object), n.pos);
    }
    auto size = static_cast<int64_t>(
        object->is_array() ? object->size() : object->get_ref<const std::string&>().size());
    int64_t bounds[2] = {0, size};
    for (int k = 0; k < 2; ++k) {
      if (!n.kids[k + 1]) continue;
      auto v = Eval(*n.kids[k + 1]);
      if (!v.ok()) return v;
      auto i = Int64Of(*v);
      if (!i) return Fault("slice bound must be an integer, got " + TypeName(*v), n.pos);
      int64_t b = *i < 0 ? *i + size : *i;
      bounds[k] = std::clamp<int64_t>(b, 0, size);
    }
    if (bounds[1] < bounds[0]) bounds[1] = bounds[0];
    auto from = static_cast<size_t>(bounds[0]);
    auto count = static_cast<size_t>(bounds[1] - bounds[0]);
    if (object->is_string()) return Json(object->get_ref<const std::string&>().substr(from, count));
    Json out = Json::array();
    for (size_t k = 0; k < count; ++k) out.push_back(std::move((*object)[from + k]));
    return out;
  }

  // The values of n.kids from `first` on.
  Result<std::vector<Json>> EvalArgs(const Node& n, size_t first) {
    std::vector<Json> args;
    for (size_t k = first; k < n.kids.size(); ++k) {
      auto v = Eval(*n.kids[k]);
      if (!v.ok()) return v.error();
      args.push_back(std::move(*v));
    }
    return args;
  }

  Result<Json> EvalCall(const Node& n) {
    if (IsClosureFunction(n.name)) return EvalClosureCall(n);
    auto args = EvalArgs(n, 0);
    if (!args.ok()) return args.error();
    if (n.name == "now") return Now(*args, n.pos);
    auto result = CallFunction(n.name, *args);
    if (!result) return Fault("unknown function '" + n.name + "'", n.pos);
    if (!result->ok()) return Fault(result->error().message, n.pos);
    if (!Charge(Cost(**result))) return Fault("expression does too much work", n.pos);
    return std::move(**result);
  }

  // now(): the scope's clock, which callers without one do not offer.
  Result<Json> Now(const std::vector<Json>& args, size_t pos) {
    if (!args.empty()) {
      return Fault("now() expects 0 argument(s), got " + std::to_string(args.size()), pos);
    }
    const Clock* clock = scope_.clock();
    if (clock == nullptr) return Fault("now() is not available here", pos);
    return TimeJson(clock->Now() * 1000);
  }

  // `receiver.Method()`: the methods of time.Duration and time.Time in kMethods.
  Result<Json> EvalMethod(const Node& n) {
    auto receiver = Eval(*n.kids[0]);
    if (!receiver.ok()) return receiver;
    auto args = EvalArgs(n, 1);
    if (!args.ok()) return args.error();
    if (!args->empty()) {
      return Fault(n.name + "() expects 0 argument(s), got " + std::to_string(args->size()), n.pos);
    }
    std::optional<int64_t> duration = DurationNanos(*receiver);
    std::optional<int64_t> time = TimeNanos(*receiver);
    if (duration && n.name != "Unix") {
      // As Go: whole units plus the remainder, so large durations keep their precision.
      constexpr int64_t kUnits[] = {3'600'000'000'000, 60'000'000'000, 1'000'000'000};
      if (n.name == "Milliseconds") return Json(*duration / 1'000'000);
      int64_t unit = kUnits[n.name == "Hours" ? 0 : n.name == "Minutes" ? 1 : 2];
      return Json(static_cast<double>(*duration / unit) +
                  static_cast<double>(*duration % unit) / static_cast<double>(unit));
    }
    if (time && n.name == "Unix") {
      int64_t seconds = *time / 1'000'000'000;
      return Json(*time % 1'000'000'000 < 0 ? seconds - 1 : seconds);
    }
    return Fault("type " + TypeName(*receiver) + " has no method " + n.name, n.pos);
  }

  Result<Json> EvalClosureCall(const Node& n) {
    auto input = Eval(*n.kids[0]);
    if (!input.ok()) return input;
    auto list = ToList(*input);
    if (!list) {
      return Fault(n.name + "() needs a list, got " + TypeName(*input) + " '" +
                       Excerpt(Text(*input), 32) + "'",
                   n.pos);
    }
    const Node& body = *n.kids[1]->kids[0];
    bool mapping = n.name == "map";
    Json out = Json::array();
    int64_t matches = 0;
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& element = (*list)[i];
      frames_.push_back({&element, static_cast<int64_t>(i)});
      auto v = Eval(body);
      frames_.pop_back();
      if (!v.ok()) return v;
      if (mapping) {
        out.push_back(std::move(*v));
        continue;
      }
      auto keep = ToBool(*v);
      if (!keep) return Fault(n.name + "() closure must return a bool, got " + TypeName(*v), n.pos);
      if (!*keep) continue;
      ++matches;
      if (n.name == "filter") out.push_back(element);
      if (n.name == "find") return element;
      if (n.name == "findIndex") return Json(static_cast<int64_t>(i));
      if (n.name == "any") return Json(true);
      if (n.name == "none") return Json(false);
    }
    if (mapping || n.name == "filter") return out;
    if (n.name == "all") return Json(matches == static_cast<int64_t>(list->size()));
    if (n.name == "any") return Json(false);
    if (n.name == "none") return Json(true);
    if (n.name == "one") return Json(matches == 1);
    if (n.name == "count") return Json(matches);
    if (n.name == "findIndex") return Json(int64_t{-1});
    return Json();  // find: nothing matched
  }

  Result<Json> EvalBinary(const Node& n) {
    const std::string& op = n.name;
    if (op == "??") {
      bool was_unresolved = unresolved_;
      auto left = Eval(*n.kids[0]);
      if (left.ok() && !left->is_null()) return left;
      if (!left.ok() && unresolved_ == was_unresolved) return left;
      unresolved_ = was_unresolved;
      return Eval(*n.kids[1]);
    }
    auto left = Eval(*n.kids[0]);
    if (!left.ok()) return left;
    if (op == "&&" || op == "||") {
      auto l = ToBool(*left);
      if (!l) return TypeError(op, *left, n.pos);
      if (op == "&&" ? !*l : *l) return Json(*l);
      auto right = Eval(*n.kids[1]);
      if (!right.ok()) return right;
      auto r = ToBool(*right);
      if (!r) return TypeError(op, *right, n.pos);
      return Json(*r);
    }
    auto right = Eval(*n.kids[1]);
    if (!right.ok()) return right;
    const Json& a = *left;
    const Json& b = *right;
    if (op == "==") return Json(a == b);
    if (op == "!=") return Json(a != b);
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.is_object()) {
        if (!a.is_string()) return TypeError(op, a, b, n.pos);
        found = b.contains(a.get_ref<const std::string&>());
      } else if (auto list = ToList(b)) {
        for (const Json& item : *list) found = found || item == a;
      } else {
        return TypeError(op, a, b, n.pos);
      }
      return Json(op == "in" ? found : !found);
    }
    if (op == "matches" || op == "contains" || op == "startsWith" || op == "endsWith") {
      if (a.is_structured() || b.is_structured() || a.is_null() || b.is_null()) {
        return TypeError(op, a, b, n.pos);
      }
      std::string x = Text(a);
      std::string y = Text(b);
      if (op == "contains") return Json(x.find(y) != std::string::npos);
      if (op == "startsWith") return Json(x.starts_with(y));
      if (op == "endsWith") return Json(x.ends_with(y));
      std::string error;
      auto matched = RegexSearch(x, y, &error);
      if (!matched) return Fault(error, n.kids[1]->pos);
      return Json(*matched);
    }
    if (a.is_binary() || b.is_binary()) return TimeOperation(op, a, b, n.pos);
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      int cmp;
      if (a.is_number() && b.is_number()) {
        auto x = Int64Of(a);
        auto y = Int64Of(b);
        if (x && y) {
          cmp = *x < *y ? -1 : *x > *y ? 1 : 0;
        } else {
          double dx = a.get<double>();
          double dy = b.get<double>();
          cmp = dx < dy ? -1 : dx > dy ? 1 : 0;
        }
      } else if (a.is_string() && b.is_string()) {
        cmp = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      } else {
        return TypeError(op, a, b, n.pos);
      }
      return Json(op == "<" ? cmp < 0 : op == "<=" ? cmp <= 0 : op == ">" ? cmp > 0 : cmp >= 0);
    }
    if (op == "..") {
      auto x = Int64Of(a);
      auto y = Int64Of(b);
      if (!x || !y) return TypeError(op, a, b, n.pos);
      if (*y >= *x && static_cast<double>(*y) - static_cast<double>(*x) >= kMaxGeneratedItems) {
        return Fault("range too large", n.pos);
      }
      if (*y >= *x && !Charge(static_cast<size_t>(*y - *x))) {
        return Fault("expression does too much work", n.pos);
      }
      Json list = Json::array();
      for (int64_t i = *x; i <= *y; ++i) list.push_back(i);
      return list;
    }
    if (op == "+" && (a.is_string() || a.is_array()) && a.type() == b.type() &&
        !Charge(Cost(a) + Cost(b))) {
      return Fault("expression does too much work", n.pos);
    }
    if (op == "+" && a.is_string() && b.is_string()) {
      return Json(a.get_ref<const std::string&>() + b.get_ref<const std::string&>());
    }
    if (op == "+" && a.is_array() && b.is_array()) {
      Json list = a;
      for (const Json& item : b) list.push_back(item);
      return list;
    }
    if (!a.is_number() || !b.is_number()) return TypeError(op, a, b, n.pos);
    return Arithmetic(op, a, b, n.pos);
  }

  // Operators on times and durations: time - time = duration, time +/- duration = time,
  // duration +/- duration, and ordering of two times or two durations.
  Result<Json> TimeOperation(const std::string& op, const Json& a, const Json& b, size_t pos) {
    std::optional<int64_t> ta = TimeNanos(a), tb = TimeNanos(b);
    std::optional<int64_t> da = DurationNanos(a), db = DurationNanos(b);
    std::optional<int64_t> x = ta ? ta : da;
    std::optional<int64_t> y = tb ? tb : db;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      if (!x || !y || ta.has_value() != tb.has_value()) return TypeError(op, a, b, pos);
      return Json(op == "<" ? *x < *y : op == "<=" ? *x <= *y : op == ">" ? *x > *y : *x >= *y);
    }
    bool plus = op == "+";
    // time + time, duration - time and duration +/- anything but a time or duration are invalid.
    if ((!plus && op != "-") || !x || !y || (ta && tb && plus) || (da && tb && !plus)) {
      return TypeError(op, a, b, pos);
    }
    int64_t r = 0;
    if (plus ? __builtin_add_overflow(*x, *y, &r) : __builtin_sub_overflow(*x, *y, &r)) {
      return Fault("time arithmetic overflows", pos);
    }
    if (ta && tb) return DurationJson(r);
    return ta || tb ? TimeJson(r) : DurationJson(r);
  }

  Result<Json> Arithmetic(const std::string& op, const Json& a, const Json& b, size_t pos) {
    auto x = Int64Of(a);
    auto y = Int64Of(b);
    if (x && y && (op == "+" || op == "-" || op == "*" || op == "%")) {
      int64_t r = 0;
      bool overflow = false;
      if (op == "+") {
        overflow = __builtin_add_overflow(*x, *y, &r);
      } else if (op == "-") {
        overflow = __builtin_sub_overflow(*x, *y, &r);
      } else if (op == "*") {
        overflow = __builtin_mul_overflow(*x, *y, &r);
      } else {
        if (*y == 0) return Fault("integer divide by zero", pos);
        r = *y == -1 ? 0 : *x % *y;
      }
      if (!overflow) return Json(r);
    }
    if (op == "%") return TypeError(op, a, b, pos);
    double dx = a.get<double>();
    double dy = b.get<double>();
    if (op == "+") return Json(dx + dy);
    if (op == "-") return Json(dx - dy);
    if (op == "*") return Json(dx * dy);
    if (op == "/") {
      if (dy == 0) return Fault("division by zero", pos);
      return Json(dx / dy);
    }
    return Json(std::pow(dx, dy));
  }

  std::string_view src_;
  const Scope& scope_;
  std::vector<Frame> frames_;
  bool unresolved_ = false;
  size_t work_ = 0;
};

// Go prints whole floats without a fraction ("3", not "3.0"); so does Argo's output. Times and
// durations become their JSON forms.
void WholeFloatsToInts(Json* value) {
  if (value->is_binary()) {
    PlainTimes(value);
  } else if (value->is_number_float()) {
    double d = value->get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
      *value = static_cast<int64_t>(d);
    }
  } else if (value->is_structured()) {
    for (Json& child : *value) WholeFloatsToInts(&child);
  }
}

}  // namespace

Result<Json> EvaluateExprValue(std::string_view expression, const Scope& scope, bool* unresolved) {
  *unresolved = false;
  auto tokens = Lexer(expression).Run();
  if (!tokens.ok()) return tokens.error();
  if (tokens->size() == 1) {
    return Fail(InvalidArgument(DescribeError("invalid expression", expression, "empty", 0)));
  }
  auto root = Parser(expression, std::move(*tokens)).Run();
  if (!root.ok()) return root.error();
  Evaluator evaluator(expression, scope);
  auto value = evaluator.Eval(**root);
  *unresolved = evaluator.unresolved();
  if (value.ok()) WholeFloatsToInts(&*value);
  return value;
}

}  // namespace internal

Result<std::string> EvaluateExpr(std::string_view expression, const Scope& scope) {
  bool unresolved;
  auto value = internal::EvaluateExprValue(expression, scope, &unresolved);
  if (!value.ok()) return value.error();
  return internal::Dump(*value);
}

}  // namespace hubspoke::expr
