#include "cli/args.hpp"

#include "exit_codes.hpp"

#include <support/suggest.hpp>

#include <charconv>

namespace synchost {

Args::Args(const std::vector<std::string> &argv, const std::vector<FlagSpec> &spec, const std::string &usage) {
    auto find = [&](const std::string &name) -> const FlagSpec * {
        for (const auto &s : spec)
            if (s.name == name) return &s;
        return nullptr;
    };
    bool only_positionals = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string &a = argv[i];
        if (only_positionals || a.size() < 2 || a.rfind("--", 0) != 0) {
            if (!only_positionals && a.size() >= 2 && a[0] == '-' && a[1] != '-')
                throw CliError(kExitConfig, "unknown option " + a + " (options are spelled --name)");
            positional_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_positionals = true;
            continue;
        }
        if (a == "--help" && find("help") == nullptr) throw HelpRequested{usage + "\n" + flags_help(spec)};
        std::string name = a.substr(2), value;
        const size_t eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        const FlagSpec *s = find(name);
        if (s == nullptr) {
            std::vector<std::string> names;
            for (const auto &f : spec) names.push_back(f.name);
            std::string hint = support::closest(name, names);
            throw CliError(kExitConfig, "unknown option --" + name + (hint.empty() ? "" : " (did you mean --" + hint + "?)"));
        }
        if (s->takes_value && !inline_value) {
            if (i + 1 >= argv.size()) throw CliError(kExitConfig, "option --" + name + " needs a value");
            value = argv[++i];
        } else if (!s->takes_value && inline_value) {
            throw CliError(kExitConfig, "option --" + name + " takes no value");
        }
        values_.emplace(name, value);
    }
}

std::string Args::get(const std::string &name, const std::string &fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::all(const std::string &name) const {
    std::vector<std::string> out;
    auto [b, e] = values_.equal_range(name);
    for (auto it = b; it != e; ++it) out.push_back(it->second);
    return out;
}

long long Args::get_int(const std::string &name, long long fallback, long long min, long long max) const {
    if (!has(name)) return fallback;
    const std::string v = get(name);
    long long n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max)
        throw CliError(kExitConfig, "option --" + name + " must be an integer between " + std::to_string(min) +
                                        " and " + std::to_string(max));
    return n;
}

std::string flags_help(const std::vector<FlagSpec> &spec) {
    std::string out;
    for (const auto &s : spec) {
        std::string left = "  --" + s.name + (s.takes_value ? " " + s.value_name : "");
        if (left.size() < 28) left.resize(28, ' ');
        else left += "  ";
        out += left + s.help + "\n";
    }
    return out;
}

}  // namespace synchost
