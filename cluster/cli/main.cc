// tributary: the admin CLI of a Tributary cluster, on librdkafka.
//
//   tributary topic create orders --partitions 3 --config retention.ms=86400000
//   tributary topic list | describe orders | delete orders
//   seq 10 | tributary produce orders --key k1 --header source=cli
//   tributary consume orders --offset beginning --count 10 --format '%p %o %k %v'
//
// Exit codes: see k_exit_codes_help (app.cc), printed by every --help.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cluster/cli/app.h"
#include "cluster/cli/common.h"

int main(int argc, char** argv) {
  using namespace tributary::cluster::cli;
  CLI::App app;
  global_options global;
  command_fn chosen;
  build_command_line(app, global, chosen);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (const auto code = parse_command_line(app, std::move(args), std::cout, std::cerr)) return *code;
  if (!chosen) {  // require_subcommand makes CLI11 refuse a command line without one
    print_error("no command given (see --help)");
    return exit_usage;
  }
  install_stop_signals();
  const outcome<void> done = chosen(global);
  std::fflush(stdout);
  if (!done) {
    print_error(done.error().message);
    return exit_code_for(done.error().code);
  }
  return exit_ok;
}
