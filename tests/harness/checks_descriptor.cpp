// The capability descriptor: well-formed, stable, equal to the manifest, extensions by id.
#include "harness.hpp"

#include <manifest/manifest.hpp>

#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace harness {
namespace {

// A key that ends in a word naming a secret ("client_secret", "access_token", "api_key"). Only the
// end: "token_url", "max_tokens" or "partition_key" name no secret and must not fail a correct plugin.
bool looks_secret(const std::string &key) {
    for (const std::string w :
         {"secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credentials"})
        if (key == w || (key.size() > w.size() && key.ends_with("_" + w))) return true;
    return false;
}

Register valid("descriptor.valid", "descriptor is well-formed: enums, unique keys, typed defaults, rules",
               [](const Options &o) {
    Fixture f(o);
    const spmanifest::Manifest m = f.manifest();
    expect(!m.id.empty() && !m.name.empty() && !m.version.empty(), "id, name and version must be set");
    expect(std::regex_match(m.version, std::regex(R"(\d+\.\d+\.\d+.*)")), "version is not semver: " + m.version);
    expect((m.sync_modes & ~0xFu) == 0 && (m.audience_modes & ~0xFu) == 0, "mode bits outside the defined set");
    expect(m.sync_modes != 0 || m.audience_modes != 0, "declares no sync mode and no audience mode");
    constexpr uint32_t kMinor0Features = SP_FEATURE_FIELD_MAPPING | SP_FEATURE_SCHEMA_INTROSPECTION;
    constexpr uint32_t kMinor1Features = kMinor0Features | SP_FEATURE_TEST_EVENTS | SP_FEATURE_OPEN_FIELDS;
    const uint32_t known = f.entry.abi_minor >= 1 ? kMinor1Features : kMinor0Features;
    // max_batch_records 0 means "no limit" (syncplugin.h), so it is not checked.
    expect((m.features & ~known) == 0, "feature bits " + std::to_string(m.features & ~known) +
                                           " are outside those ABI minor " + std::to_string(f.entry.abi_minor) +
                                           " defines");
    std::set<std::string> keys;
    for (const auto &c : m.config) {
        expect(!c.key.empty(), "a config field has no key");
        expect(keys.insert(c.key).second, "config key \"" + c.key + "\" is declared twice");
        expect(!c.description.empty(), "config key \"" + c.key + "\" has no description");
        if (looks_secret(c.key))
            expect(c.type == SP_CONFIG_SECRET, "config key \"" + c.key + "\" looks secret but is not typed secret");
        if (!c.has_default) continue;
        const std::string &v = c.default_value;
        if (c.type == SP_CONFIG_INTEGER) {
            long long n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            expect(ec == std::errc() && p == v.data() + v.size(), "default of \"" + c.key + "\" is not an integer");
            if (c.min_value || c.max_value)
                expect(n >= c.min_value && n <= c.max_value, "default of \"" + c.key + "\" is outside its range");
        }
        if (c.type == SP_CONFIG_BOOLEAN)
            expect(v == "true" || v == "false", "default of \"" + c.key + "\" is not true/false");
        if (!c.pattern.empty())
            expect(std::regex_search(v, std::regex(c.pattern)), "default of \"" + c.key + "\" fails its own pattern");
        expect(!c.required, "config key \"" + c.key + "\" is required and has a default");
    }
    std::set<std::string> names;
    for (const auto &d : m.fields) {
        expect(names.insert(d.name).second, "destination field \"" + d.name + "\" is declared twice");
        expect(!((d.flags & SP_FIELD_HASHED) && (d.flags & SP_FIELD_PREHASHED)),
               "field \"" + d.name + "\" is both hashed and pre-hashed");
    }
    // With open fields any name is a destination field (the declared ones are suggestions), so a
    // rule may name one that is not declared.
    const bool open_fields = (m.features & SP_FEATURE_OPEN_FIELDS) != 0;
    for (const auto &r : m.required) {
        expect(!r.any_of.empty(), "a required rule lists no field");
        for (const auto &n : r.any_of)
            expect(open_fields || names.count(n) == 1, "required rule names undeclared field \"" + n + "\"");
    }
    if (m.auth.kinds & SP_AUTH_OAUTH2) {
        expect(m.auth.authorize_url.rfind("https://", 0) == 0 && m.auth.token_url.rfind("https://", 0) == 0,
               "OAuth URLs must be https");
        expect(!m.auth.scopes.empty(), "OAuth declared without scopes");
    }
});

Register stable("descriptor.stable", "describe() answers the same pointer and content on every call",
                [](const Options &o) {
                    Fixture f(o);
                    const sp_descriptor *a = f.entry.describe();
                    const sp_descriptor *b = f.entry.describe();
                    expect(a == b, "describe() returned a different pointer on the second call");
                    auto m1 = f.manifest();
                    for (int i = 0; i < 5; ++i)
                        expect(manifest_of(*f.entry.describe()) == m1, "descriptor content changed");
                });

// The embedded manifest, parsed; fails naming the parse error (it is the plugin's data, not an
// exception of the plugin's code).
spmanifest::Manifest embedded_manifest(const sp_descriptor &d) {
    try {
        return spmanifest::parse(d.manifest_json);
    } catch (const std::exception &e) {
        fail(std::string("cannot parse the plugin's embedded manifest (descriptor.manifest_json): ") + e.what());
    }
}

Register matches("descriptor.matches_manifest", "descriptor equals the manifest file (and its embedded copy)",
                 [](const Options &o) {
    Fixture f(o);
    const auto declared = f.manifest();
    const bool embedded = SP_HAS_FIELD(&f.desc, sp_descriptor, manifest_json) && f.desc.manifest_json != nullptr;
    if (embedded)
        expect(embedded_manifest(f.desc) == declared, "descriptor differs from its own embedded manifest_json");
    std::string file = o.manifest;
    if (file.empty()) {
        std::string lib = o.library, dir = lib.substr(0, lib.find_last_of('/') + 1);
        file = dir + declared.id + ".json";
        if (!std::ifstream(file)) {
            if (embedded) return;  // compared with the embedded copy above
            skip("no manifest given (--manifest FILE), none beside the library and no embedded manifest_json");
        }
    }
    std::ifstream in(file);
    expect(bool(in), "cannot read manifest " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    spmanifest::Manifest m;
    try {
        m = spmanifest::parse(ss.str());
    } catch (const std::exception &e) {
        fail(file + ": " + e.what());
    }
    if (!(m == declared))
        fail("descriptor differs from " + file + "\n  manifest:   " + spmanifest::to_json_text(m).substr(0, 300) +
             "\n  descriptor: " + spmanifest::to_json_text(declared).substr(0, 300));
});

Register extensions("descriptor.unknown_extension", "unknown extension ids (and trailing garbage) give NULL",
                    [](const Options &o) {
                        Fixture f(o);
                        if (!f.entry.get_extension) skip("no get_extension slot");
                        expect(f.entry.get_extension("sp.harness-nonexistent/1") == nullptr, "unknown id gave non-NULL");
                        expect(f.entry.get_extension("") == nullptr, "empty id gave non-NULL");
                        expect(f.entry.get_extension(nullptr) == nullptr, "NULL id gave non-NULL");
                        if (f.entry.get_extension(SP_EXT_DRY_RUN) != nullptr) {
                            expect(f.entry.get_extension(SP_EXT_DRY_RUN "x") == nullptr,
                                   "id with trailing garbage gave non-NULL");
                            expect(f.entry.get_extension("sp.dry_run/") == nullptr, "truncated id gave non-NULL");
                        }
                    });

}  // namespace
}  // namespace harness
