// check(config): offline validation with no side effects, CONFIG errors that name the key and
// never echo values.
#include "harness.hpp"

#include <manifest/manifest.hpp>

#include <regex>

namespace harness {
namespace {

Error run_check(const Fixture &f, const KV &kv) {
    Config c(kv);
    sp_error *err = nullptr;
    sp_status s = f.entry.check(c.get(), nullptr, &err);
    Error e = take(f.entry, err);
    if (s != SP_OK && !e.present) fail("check() failed without an error object");
    if (s == SP_OK && e.present) fail("check() returned SP_OK and an error object");
    if (s != SP_OK) e.present = true;
    return e;
}

// A value check() must refuse for key c, or "" when any text fits it (a string without pattern).
std::string refused_value(const spmanifest::ConfigField &c) {
    if (c.type == SP_CONFIG_INTEGER) return "not-a-number";
    if (c.type == SP_CONFIG_BOOLEAN) return "maybe";
    if (c.type == SP_CONFIG_ENUM) return "harness-not-an-option";
    if (c.pattern.empty()) return "";
    const std::regex re(c.pattern, std::regex::ECMAScript);
    for (const char *v : {"harness value/with:odd#chars!", " ", "-1", "\x7f"})
        if (!std::regex_search(v, re)) return v;
    return "";
}

Register good("check.good_config", "check() accepts the known-good config", [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given (--config KEY=VALUE)");
    Error e = run_check(f, o.config);
    expect(!e.present, "good config refused: " + e.message);
});

Register missing("check.missing_required", "each missing required key gives a CONFIG error naming it",
                 [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    auto m = f.manifest();
    int tested = 0;
    for (const auto &c : m.config) {
        if (!c.required) continue;
        ++tested;
        Error e = run_check(f, without(o.config, c.key));
        expect(e.present, "config without required \"" + c.key + "\" accepted");
        expect(e.category == SP_ERR_CONFIG, "missing \"" + c.key + "\" gave category " + std::to_string(e.category));
        expect(e.message.find(c.key) != std::string::npos, "error does not name \"" + c.key + "\": " + e.message);
    }
    if (tested == 0) skip("plugin declares no required config");
});

Register types("check.wrong_types", "integer, boolean, enum and pattern violations give CONFIG errors naming the key",
               [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    int tested = 0;
    for (const auto &c : f.manifest().config) {
        const std::string bad = refused_value(c);
        if (bad.empty()) continue;
        ++tested;
        Error e = run_check(f, with(o.config, c.key, bad));
        expect(e.present, "\"" + c.key + "\"=" + bad + " accepted");
        expect(e.category == SP_ERR_CONFIG, "bad \"" + c.key + "\" gave a non-CONFIG category");
        expect(e.message.find(c.key) != std::string::npos, "error does not name \"" + c.key + "\": " + e.message);
    }
    if (tested == 0) skip("no integer, boolean, enum or patterned config key");
});

Register extra("check.extra_keys_tolerated", "unknown config keys are tolerated (forward compatibility)",
               [](const Options &o) {
                   Fixture f(o);
                   if (!f.has_good_config()) skip("no known-good config given");
                   Error e = run_check(f, with(o.config, "harness_unknown_key", "1"));
                   expect(!e.present, "an unknown key made check() fail: " + e.message);
               });

// The canary is put in each key in turn. When that alone does not make the config fail (free
// text), the harness breaks the config another way: a required key dropped, or another key given a
// value it must refuse. Then check() and a dry-run open() must fail without echoing the canary,
// in their messages and in what open() logs.
Register no_echo("check.no_value_echo", "errors never echo a config value (a canary in each key of a failing config)",
                 [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    const auto man = f.manifest();
    const std::string canary = "HarnessCanary7f3a9cSecret";
    std::vector<std::pair<std::string, KV>> breakers;  // the key each one touches, and the broken config
    for (const auto &r : man.config) {
        if (r.required) breakers.emplace_back(r.key, without(o.config, r.key));
        if (const std::string bad = refused_value(r); !bad.empty())
            breakers.emplace_back(r.key, with(o.config, r.key, bad));
    }
    Mapping m(o.mapping);
    // check() and a dry-run open() of kv; false when check() accepts it (no message to inspect).
    auto inspect = [&](const KV &kv, const std::string &what) {
        Error e = run_check(f, kv);
        if (!e.present) return false;
        expect(e.message.find(canary) == std::string::npos, "check() echoes " + what + ": " + e.message);
        Config config(kv);
        Host host("");
        sp_open_params p = f.params(config, m, SP_OPEN_DRY_RUN);
        sp_instance *inst = nullptr;
        sp_error *err = nullptr;
        if (f.entry.open(&p, host.get(), &inst, &err) == SP_OK) f.entry.destroy(inst);
        const Error opened = take(f.entry, err);
        expect(opened.message.find(canary) == std::string::npos, "open() echoes " + what + ": " + opened.message);
        for (const auto &line : host.logged())
            expect(line.find(canary) == std::string::npos, "open() logs " + what + ": " + line);
        return true;
    };
    int tested = 0;
    for (const auto &c : man.config) {
        std::vector<KV> candidates = {with(o.config, c.key, canary)};
        for (const auto &[touched, broken] : breakers)
            if (touched != c.key) candidates.push_back(with(broken, c.key, canary));
        for (const KV &kv : candidates) {
            if (!inspect(kv, "the value of \"" + c.key + "\"")) continue;  // good config: try one broken another way
            ++tested;
            break;
        }
    }
    // The value of a key the plugin does not know is a config value too (a newer host's key).
    for (const auto &broken : breakers)
        if (inspect(with(broken.second, "harness_unknown_key", canary), "the value of an unknown key")) ++tested;
    if (tested == 0) skip("no config can fail (no required, typed or patterned key): there is nothing to echo");
});

Register null_config("check.null_config", "check(NULL) fails cleanly when config is required", [](const Options &o) {
    Fixture f(o);
    sp_error *err = nullptr;
    sp_status s = f.entry.check(nullptr, nullptr, &err);
    Error e = take(f.entry, err);
    auto m = f.manifest();
    bool any_required = false;
    for (const auto &c : m.config) any_required = any_required || c.required;
    if (any_required) expect(s != SP_OK && e.category == SP_ERR_CONFIG, "check(NULL) did not fail with CONFIG");
    // And a NULL out_error must be accepted.
    f.entry.check(nullptr, nullptr, nullptr);
});

}  // namespace
}  // namespace harness
