// Command-line flags for synchost commands: --name value, --name=value, boolean --flag, and
// positionals. Unknown flags are an error that suggests the closest known one.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace synchost {

struct FlagSpec {
    std::string name;       // without the leading --
    bool takes_value;
    std::string help;
    std::string value_name = "VALUE";
};

// Thrown when the arguments contain --help: `text` is the usage and the flags, for stdout.
struct HelpRequested {
    std::string text;
};

class Args {
public:
    // Throws CliError(kExitConfig) on unknown flags or missing values, and HelpRequested (with
    // `usage` and the flags) when --help is given and the spec does not handle it itself.
    Args(const std::vector<std::string> &argv, const std::vector<FlagSpec> &spec, const std::string &usage = "");

    bool has(const std::string &name) const { return values_.count(name) > 0; }
    std::string get(const std::string &name, const std::string &fallback = "") const;
    std::vector<std::string> all(const std::string &name) const;
    // Integer value of a flag; throws CliError naming the flag when not an integer in [min, max].
    long long get_int(const std::string &name, long long fallback, long long min, long long max) const;
    const std::vector<std::string> &positional() const { return positional_; }

private:
    std::multimap<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

// "  --name VALUE   help" lines for a command's usage text.
std::string flags_help(const std::vector<FlagSpec> &spec);

}  // namespace synchost
