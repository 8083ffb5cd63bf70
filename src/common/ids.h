// Identifiers in Argo's scheme: a node's id is the workflow name plus the 32-bit FNV-1a hash of the
// node name ("wf-1234567890"); the root node's id is the workflow name itself. generateName gets a
// five-character suffix from a seeded generator, so runs are reproducible in tests.
// Thread-safety: the functions are pure; a NameGenerator must be used from one thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace hubspoke {

uint32_t Fnv1a32(std::string_view s);

std::string NodeId(std::string_view workflow_name, std::string_view node_name);

class NameGenerator {
 public:
  explicit NameGenerator(uint64_t seed) : rng_(seed) {}
  // prefix + 5 characters of [a-z0-9], as Kubernetes does for generateName.
  std::string Generate(std::string_view prefix);
  uint64_t Next() { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace hubspoke
