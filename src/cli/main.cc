#include "cli/cli.h"

int main(int argc, char** argv) { return hubspoke::cli::Main(argc, argv); }
