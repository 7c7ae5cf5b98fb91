// check(config): offline validation with no side effects, CONFIG errors that name the key and
// never echo values.
#include "harness.hpp"

#include <manifest/manifest.hpp>

namespace harness {
namespace {

using KV = std::vector<std::pair<std::string, std::string>>;

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

KV without(const KV &kv, const std::string &key) {
    KV out;
    for (const auto &p : kv)
        if (p.first != key) out.push_back(p);
    return out;
}

KV with(KV kv, const std::string &key, const std::string &value) {
    kv = without(kv, key);
    kv.emplace_back(key, value);
    return kv;
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
    auto m = spmanifest::from_descriptor(f.desc);
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

Register types("check.wrong_types", "integer, boolean and pattern violations give CONFIG errors naming the key",
               [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    auto m = spmanifest::from_descriptor(f.desc);
    for (const auto &c : m.config) {
        std::string bad;
        if (c.type == SP_CONFIG_INTEGER) bad = "not-a-number";
        else if (c.type == SP_CONFIG_BOOLEAN) bad = "maybe";
        else if (c.type == SP_CONFIG_ENUM) bad = "harness-not-an-option";
        else continue;
        Error e = run_check(f, with(o.config, c.key, bad));
        expect(e.present, "\"" + c.key + "\"=" + bad + " accepted");
        expect(e.category == SP_ERR_CONFIG, "bad \"" + c.key + "\" gave a non-CONFIG category");
        expect(e.message.find(c.key) != std::string::npos, "error does not name \"" + c.key + "\": " + e.message);
    }
});

Register extra("check.extra_keys_tolerated", "unknown config keys are tolerated (forward compatibility)",
               [](const Options &o) {
                   Fixture f(o);
                   if (!f.has_good_config()) skip("no known-good config given");
                   Error e = run_check(f, with(o.config, "harness_unknown_key", "1"));
                   expect(!e.present, "an unknown key made check() fail: " + e.message);
               });

Register no_echo("check.no_value_echo", "errors never echo a config value (secrets, identifiers)",
                 [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    auto m = spmanifest::from_descriptor(f.desc);
    const std::string canary = "HarnessCanary-7f3a9c!#";
    int tested = 0;
    for (const auto &c : m.config) {
        if (c.type != SP_CONFIG_STRING && c.type != SP_CONFIG_SECRET) continue;
        // With the canary in this key and a required key missing, check() must fail without echoing it.
        KV kv = with(o.config, c.key, canary);
        for (const auto &r : m.config)
            if (r.required && r.key != c.key) kv = without(kv, r.key);
        Error e = run_check(f, kv);
        if (!e.present) continue;
        ++tested;
        expect(e.message.find(canary) == std::string::npos, "error echoes the value of \"" + c.key + "\"");
    }
    if (tested == 0) skip("no failing configuration to inspect");
});

Register null_config("check.null_config", "check(NULL) fails cleanly when config is required", [](const Options &o) {
    Fixture f(o);
    sp_error *err = nullptr;
    sp_status s = f.entry.check(nullptr, nullptr, &err);
    Error e = take(f.entry, err);
    auto m = spmanifest::from_descriptor(f.desc);
    bool any_required = false;
    for (const auto &c : m.config) any_required = any_required || c.required;
    if (any_required) expect(s != SP_OK && e.category == SP_ERR_CONFIG, "check(NULL) did not fail with CONFIG");
    // And a NULL out_error must be accepted.
    f.entry.check(nullptr, nullptr, nullptr);
});

}  // namespace
}  // namespace harness
