// DAG `depends` expressions: task names, `.Result` suffixes, `&&`, `||`, `!`, parentheses.
#include <cctype>
#include <memory>

#include "expr/expr.h"
#include "expr/json_util.h"

namespace hubspoke::expr {
namespace {

using internal::DescribeError;

constexpr std::string_view kResults[] = {"Succeeded", "Failed",   "Errored",      "Skipped",
                                         "Omitted",   "Daemoned", "AnySucceeded", "AllFailed"};

struct Node {
  enum class Kind { kTask, kNot, kAnd, kOr };
  Kind kind;
  std::string task;
  std::string result;  // empty for a bare name
  int depth = 1;
  std::unique_ptr<Node> left, right;
};

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

class DependsParser {
 public:
  explicit DependsParser(std::string_view source) : src_(source) {}

  Result<std::unique_ptr<Node>> Parse() {
    SkipSpaces();
    if (pos_ >= src_.size()) return Fail(Fault("empty expression"));
    auto root = ParseOr();
    if (!root.ok()) return root;
    SkipSpaces();
    if (pos_ < src_.size()) return Fail(Fault("unexpected '" + std::string(1, src_[pos_]) + "'"));
    return root;
  }

  std::vector<std::string> tasks() const { return tasks_; }

 private:
  Error Fault(const std::string& message, std::optional<size_t> at = std::nullopt) const {
    return InvalidArgument(DescribeError("invalid depends", src_, message, at.value_or(pos_)));
  }

  void SkipSpaces() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  }

  bool Take(std::string_view op) {
    SkipSpaces();
    if (src_.substr(pos_, op.size()) != op) return false;
    pos_ += op.size();
    return true;
  }

  Result<std::unique_ptr<Node>> Join(Node::Kind kind, std::unique_ptr<Node> left,
                                     std::unique_ptr<Node> right) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->depth = 1 + std::max(left->depth, right ? right->depth : 0);
    if (node->depth > internal::kMaxTreeDepth) return Fail(Fault("expression too deep"));
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  Result<std::unique_ptr<Node>> ParseOr() {
    auto left = ParseAnd();
    while (left.ok() && Take("||")) {
      auto right = ParseAnd();
      if (!right.ok()) return right;
      left = Join(Node::Kind::kOr, std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<std::unique_ptr<Node>> ParseAnd() {
    auto left = ParseUnary();
    while (left.ok() && Take("&&")) {
      auto right = ParseUnary();
      if (!right.ok()) return right;
      left = Join(Node::Kind::kAnd, std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<std::unique_ptr<Node>> ParseUnary() {
    if (++nesting_ > internal::kMaxNesting) return Fail(Fault("expression nested too deeply"));
    Result<std::unique_ptr<Node>> node = std::unique_ptr<Node>();
    if (Take("!")) {
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      node = Join(Node::Kind::kNot, std::move(*operand), nullptr);
    } else if (Take("(")) {
      size_t open = pos_ - 1;
      node = ParseOr();
      if (node.ok() && !Take(")")) {
        return Fail(Fault("expected ')' to close '(' at column " + std::to_string(open + 1)));
      }
    } else {
      node = ParseTask();
    }
    --nesting_;
    return node;
  }

  Result<std::unique_ptr<Node>> ParseTask() {
    SkipSpaces();
    size_t start = pos_;
    while (pos_ < src_.size() && IsNameChar(src_[pos_])) ++pos_;
    if (pos_ == start) {
      if (pos_ >= src_.size()) return Fail(Fault("expected a task name, got end of expression"));
      return Fail(Fault("expected a task name, got '" + std::string(1, src_[pos_]) + "'"));
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kTask;
    node->task = std::string(src_.substr(start, pos_ - start));
    if (pos_ < src_.size() && src_[pos_] == '.') {
      size_t result_start = ++pos_;
      while (pos_ < src_.size() && std::isalpha(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      node->result = std::string(src_.substr(result_start, pos_ - result_start));
      bool known = false;
      for (std::string_view r : kResults) known = known || r == node->result;
      if (!known) {
        return Fail(Fault("unknown result '" + node->result + "' for task '" + node->task +
                              "' (expected Succeeded, Failed, Errored, Skipped, Omitted, "
                              "Daemoned, AnySucceeded or AllFailed)",
                          result_start));
      }
    }
    bool seen = false;
    for (const std::string& t : tasks_) seen = seen || t == node->task;
    if (!seen) tasks_.push_back(node->task);
    return node;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int nesting_ = 0;
  std::vector<std::string> tasks_;
};

bool Evaluate(const Node& n, const std::function<TaskState(std::string_view)>& task) {
  switch (n.kind) {
    case Node::Kind::kNot:
      return !Evaluate(*n.left, task);
    case Node::Kind::kAnd:
      return Evaluate(*n.left, task) && Evaluate(*n.right, task);
    case Node::Kind::kOr:
      return Evaluate(*n.left, task) || Evaluate(*n.right, task);
    case Node::Kind::kTask:
      break;
  }
  TaskState s = task(n.task);
  if (!s.exists) return false;
  const std::string& r = n.result;
  if (r.empty()) return s.phase == "Succeeded" || s.phase == "Skipped" || s.daemoned;
  if (r == "Errored") return s.phase == "Error";
  if (r == "Daemoned") return s.daemoned;
  if (r == "AnySucceeded") return s.any_succeeded;
  if (r == "AllFailed") return s.all_failed;
  return s.phase == r;
}

}  // namespace

Result<bool> EvaluateDepends(std::string_view depends,
                             const std::function<TaskState(std::string_view)>& task) {
  DependsParser parser(depends);
  auto root = parser.Parse();
  if (!root.ok()) return root.error();
  return Evaluate(**root, task);
}

Result<std::vector<std::string>> DependsTasks(std::string_view depends) {
  DependsParser parser(depends);
  auto root = parser.Parse();
  if (!root.ok()) return root.error();
  return parser.tasks();
}

}  // namespace hubspoke::expr
