// synchost commands. Each takes the arguments after its name and returns an exit code
// (exit_codes.hpp); errors are thrown as CliError.
#pragma once

#include <exception>
#include <string>
#include <vector>

namespace synchost {

using Argv = std::vector<std::string>;

int cmd_plugins(const Argv &args);
int cmd_describe(const Argv &args);
int cmd_connect(const Argv &args);
int cmd_check(const Argv &args);
int cmd_sync(const Argv &args);
int cmd_status(const Argv &args);
int cmd_quality(const Argv &args);
int cmd_state(const Argv &args);

// The exit code of a command that threw `e`: a CliError's own, kExitConfig for a source that
// cannot be read, else kExitInternal.
int exit_code_of(const std::exception &e);

}  // namespace synchost
