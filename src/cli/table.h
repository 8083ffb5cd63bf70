// Plain-text tables and ages for the listing commands (`list`, `template list`), local or
// against a hub, so both print the same columns the same way.
// Thread-safety: pure functions.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"

namespace hubspoke::cli {

// The time from `t` to `now` as `argo list` prints ages and durations ("42s", "3m", "5h", "2d");
// "-" when `t` is unset.
std::string Age(Micros t, Micros now);

// Prints `rows` (rows[0] is the title) in left-aligned columns three spaces apart, without
// trailing blanks.
void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out);

}  // namespace hubspoke::cli
