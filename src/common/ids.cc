#include "common/ids.h"

namespace hubspoke {

uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string NodeId(std::string_view workflow_name, std::string_view node_name) {
  if (node_name == workflow_name) return std::string(workflow_name);
  return std::string(workflow_name) + "-" + std::to_string(Fnv1a32(node_name));
}

std::string NameGenerator::Generate(std::string_view prefix) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(prefix);
  for (int i = 0; i < 5; ++i) out.push_back(kAlphabet[rng_() % (sizeof kAlphabet - 1)]);
  return out;
}

}  // namespace hubspoke
