#include "hub/label_selector.h"

#include <algorithm>
#include <cctype>

namespace hubspoke::hub {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Label keys and values as Kubernetes allows them: letters, digits, '-', '_', '.', and '/' in
// keys (prefix/name). Values may be empty.
bool ValidToken(std::string_view s, bool key) {
  if (key && s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           (key && c == '/');
  });
}

// Splits on commas outside parentheses.
std::vector<std::string_view> SplitRequirements(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

// Finds ` in ` / ` notin ` as a whole word after the key.
size_t FindWord(std::string_view s, std::string_view word) {
  for (size_t pos = s.find(word); pos != std::string_view::npos; pos = s.find(word, pos + 1)) {
    bool before = pos > 0 && std::isspace(static_cast<unsigned char>(s[pos - 1]));
    size_t end = pos + word.size();
    bool after =
        end < s.size() && (std::isspace(static_cast<unsigned char>(s[end])) || s[end] == '(');
    if (before && after) return pos;
  }
  return std::string_view::npos;
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector selector;
  if (Trim(text).empty()) return selector;
  for (std::string_view raw : SplitRequirements(text)) {
    std::string_view req = Trim(raw);
    auto bad = [&](const std::string& why) {
      return Fail(
          InvalidArgument("label selector requirement \"" + std::string(req) + "\": " + why));
    };
    if (req.empty()) return bad("empty requirement (stray comma?)");
    Requirement r;
    size_t in = FindWord(req, "in");
    size_t notin = FindWord(req, "notin");
    if (in != std::string_view::npos || notin != std::string_view::npos) {
      bool is_notin = notin != std::string_view::npos;
      size_t at = is_notin ? notin : in;
      r.key = std::string(Trim(req.substr(0, at)));
      r.op = is_notin ? Requirement::Op::kNotIn : Requirement::Op::kIn;
      std::string_view set = Trim(req.substr(at + (is_notin ? 5 : 2)));
      if (set.size() < 2 || set.front() != '(' || set.back() != ')') {
        return bad("expected a parenthesized list of values, e.g. env in (dev,prod)");
      }
      set = set.substr(1, set.size() - 2);
      size_t start = 0;
      while (start <= set.size()) {
        size_t comma = set.find(',', start);
        if (comma == std::string_view::npos) comma = set.size();
        std::string_view value = Trim(set.substr(start, comma - start));
        if (!ValidToken(value, false)) return bad("invalid value \"" + std::string(value) + "\"");
        r.values.emplace_back(value);
        start = comma + 1;
      }
    } else if (size_t ne = req.find("!="); ne != std::string_view::npos) {
      r.key = std::string(Trim(req.substr(0, ne)));
      r.op = Requirement::Op::kNotIn;
      r.values.emplace_back(Trim(req.substr(ne + 2)));
    } else if (size_t eq = req.find('='); eq != std::string_view::npos) {
      r.key = std::string(Trim(req.substr(0, eq)));
      r.op = Requirement::Op::kIn;
      size_t skip = eq + 1 < req.size() && req[eq + 1] == '=' ? 2 : 1;
      r.values.emplace_back(Trim(req.substr(eq + skip)));
    } else if (req.front() == '!') {
      r.key = std::string(Trim(req.substr(1)));
      r.op = Requirement::Op::kNotExists;
    } else {
      r.key = std::string(req);
      r.op = Requirement::Op::kExists;
    }
    if (!ValidToken(r.key, true)) return bad("invalid label key \"" + r.key + "\"");
    for (const std::string& v : r.values) {
      if (!ValidToken(v, false)) return bad("invalid value \"" + v + "\"");
    }
    selector.requirements_.push_back(std::move(r));
  }
  return selector;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kIn:
        if (!listed) return false;
        break;
      case Requirement::Op::kNotIn:
        if (listed) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

}  // namespace hubspoke::hub
