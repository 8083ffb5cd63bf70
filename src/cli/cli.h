// The `hubspoke` command: parses the command line (CLI11 lives in cli.cc only) and runs a
// subcommand. Exit codes: 0 success, 1 a workflow ended Failed/Error (or lint found problems),
// 2 a usage or manifest error.
// Thread-safety: call Main() once, from the main thread.
#pragma once

namespace hubspoke::cli {

int Main(int argc, char** argv);

}  // namespace hubspoke::cli
