// `synchost plugins` and `synchost describe`: what plugins exist and what each one can do.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "exit_codes.hpp"
#include "plugin/catalog.hpp"
#include "plugin/loader.hpp"

#include <manifest/manifest.hpp>
#include <support/suggest.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <algorithm>
#include <iostream>
#include <sstream>

namespace synchost {

namespace json = boost::json;

namespace {

const FlagSpec kPluginPath{"plugin-path", true, "directories to search for plugins (colon-separated)", "DIRS"};
const FlagSpec kJson{"json", false, "print JSON instead of text"};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string modes(const std::vector<std::string> &names) { return names.empty() ? "none" : support::join(names); }

std::string auth_text(const spmanifest::Auth &a) {
    std::vector<std::string> parts;
    if (a.kinds & SP_AUTH_OAUTH2)
        parts.push_back("OAuth 2.0 (scopes " + support::join(a.scopes) + ")");
    if (a.kinds & SP_AUTH_STATIC_TOKEN) parts.push_back("static access token");
    return parts.empty() ? "none" : support::join(parts, ", or ");
}

// Capabilities from the manifest beside the library when there is one (no code is loaded), else
// from the loaded plugin's descriptor.
spmanifest::Manifest capabilities_of(const CatalogEntry &c) {
    if (!c.manifest.empty()) {
        std::ifstream in(c.manifest);
        std::stringstream ss;
        ss << in.rdbuf();
        return spmanifest::parse(ss.str());
    }
    auto plugin = Plugin::load(c.library);
    return spmanifest::from_descriptor(plugin->descriptor());
}

}  // namespace

int cmd_plugins(const Argv &argv) {
    const std::vector<FlagSpec> spec{kPluginPath, kJson};
    Args args(argv, spec, "usage: synchost plugins [--json] [--plugin-path DIRS]\n\nLists plugins found on the plugin path, reading manifests without loading code.");
    const auto dirs = plugin_search_path(args.get("plugin-path"));
    const auto all = discover_plugins(dirs);
    json::array out;
    for (const auto &c : all) {
        spmanifest::Manifest m;
        std::string problem;
        try {
            m = capabilities_of(c);
        } catch (const std::exception &e) {
            problem = e.what();
        }
        if (args.has("json")) {
            json::object o;
            o["id"] = c.id;
            o["library"] = c.library.string();
            o["manifest"] = c.manifest.empty() ? json::value(nullptr) : json::value(c.manifest.string());
            if (problem.empty()) o["capabilities"] = spmanifest::to_json(m);
            else o["error"] = problem;
            out.push_back(std::move(o));
            continue;
        }
        if (!problem.empty()) {
            std::cout << c.id << "  (unusable: " << problem << ")\n";
            continue;
        }
        // Listed (and found by `sync`) under its file's name; say so when the plugin calls itself otherwise.
        std::cout << c.id << "  " << m.version << "  " << m.name
                  << (m.id == c.id ? "" : "  (the library declares id \"" + m.id + "\")") << "\n"
                  << "  library: " << c.library.string() << (c.manifest.empty() ? "" : " (manifest beside it)") << "\n"
                  << "  sync modes: " << modes(spmanifest::sync_mode_names(m.sync_modes))
                  << " | audience sync modes: " << modes(spmanifest::audience_mode_names(m.audience_modes))
                  << " | field mapping: " << yes_no(m.features & SP_FEATURE_FIELD_MAPPING)
                  << " | schema introspection: " << yes_no(m.features & SP_FEATURE_SCHEMA_INTROSPECTION)
                  << " | auth: " << auth_text(m.auth) << "\n";
    }
    if (args.has("json")) std::cout << json::serialize(out) << "\n";
    else if (all.empty()) std::cout << "no plugins found (set --plugin-path or SYNCHOST_PLUGIN_PATH)\n";
    return kExitOk;
}

int cmd_describe(const Argv &argv) {
    const std::vector<FlagSpec> spec{kPluginPath, kJson};
    Args args(argv, spec, "usage: synchost describe PLUGIN [--json] [--plugin-path DIRS]\n\nEverything a plugin declares: modes, features, auth, config, destination fields, required mapping.");
    if (args.positional().size() != 1)
        throw CliError(kExitConfig, "usage: synchost describe PLUGIN [--json] [--plugin-path DIRS]");
    const CatalogEntry entry = find_plugin(args.positional()[0], plugin_search_path(args.get("plugin-path")));
    std::shared_ptr<Plugin> plugin;
    try {
        plugin = Plugin::load(entry.library);
    } catch (const PluginLoadError &e) {
        throw CliError(kExitConfig, e.what());
    }
    const spmanifest::Manifest m = spmanifest::from_descriptor(plugin->descriptor());
    const sp_entry &e = plugin->entry();

    if (args.has("json")) {
        json::value v = spmanifest::to_json(m);
        v.as_object()["abi"] = {{"major", e.abi_major}, {"minor", e.abi_minor}};
        v.as_object()["library"] = plugin->path().string();
        std::cout << json::serialize(v) << "\n";
        return kExitOk;
    }
    std::ostream &o = std::cout;
    o << m.name << " (" << m.id << " " << m.version << "), plugin ABI " << e.abi_major << "." << e.abi_minor << "\n"
      << "  library: " << plugin->path().string() << "\n"
      << m.description << "\n\n"
      << "Sync modes:            " << modes(spmanifest::sync_mode_names(m.sync_modes)) << "\n"
      << "Audience sync modes:   " << modes(spmanifest::audience_mode_names(m.audience_modes)) << "\n"
      << "Field mapping:         " << yes_no(m.features & SP_FEATURE_FIELD_MAPPING) << "\n"
      << "Schema introspection:  " << yes_no(m.features & SP_FEATURE_SCHEMA_INTROSPECTION) << "\n"
      << "Test events:           " << yes_no(m.features & SP_FEATURE_TEST_EVENTS) << "\n"
      << "Destination fields:    " << (m.features & SP_FEATURE_OPEN_FIELDS ? "any name (the list below suggests)" : "the list below")
      << "\n"
      << "Auth:                  " << auth_text(m.auth) << "\n";
    if (m.auth.kinds & SP_AUTH_OAUTH2)
        o << "  authorize URL:       " << m.auth.authorize_url << "\n"
          << "  token URL:           " << m.auth.token_url << "\n";
    if (m.auth.kinds & SP_AUTH_STATIC_TOKEN && !m.auth.static_token_help.empty())
        o << "  static token:        " << m.auth.static_token_help << "\n";
    // Only the limits the plugin has.
    std::vector<std::string> limits;
    if (m.max_batch_records) limits.push_back("up to " + std::to_string(m.max_batch_records) + " records per request");
    if (m.max_batch_bytes) limits.push_back("up to " + std::to_string(m.max_batch_bytes) + " bytes per request");
    if (m.recommended_batch_records)
        limits.push_back(std::to_string(m.recommended_batch_records) + " records per write recommended");
    o << "Batches:               " << (limits.empty() ? "no limits" : support::join(limits, "; ")) << "\n";
    if (!m.config.empty()) o << "\nConfig:\n";
    for (const auto &c : m.config) {
        o << "  " << c.key << "  (" << spmanifest::config_type_name(c.type) << (c.required ? ", required" : "")
          << (c.has_default ? ", default \"" + c.default_value + "\"" : "")
          << (c.min_value || c.max_value ? ", " + std::to_string(c.min_value) + ".." + std::to_string(c.max_value) : "")
          << (c.pattern.empty() ? "" : ", pattern " + c.pattern) << (c.advanced ? ", advanced" : "") << ")\n"
          << "      " << c.description << "\n";
    }
    if (!m.fields.empty()) o << "\nDestination fields:\n";
    // The plugin's own groups, in the order they first appear; fields without one first.
    std::vector<std::string> groups;
    for (const auto &f : m.fields)
        if (std::find(groups.begin(), groups.end(), f.group) == groups.end()) groups.push_back(f.group);
    std::stable_partition(groups.begin(), groups.end(), [](const std::string &g) { return g.empty(); });
    for (const auto &g : groups) {
        if (!g.empty()) o << "  " << g << ":\n";
        for (const auto &f : m.fields) {
            if (f.group != g) continue;
            std::vector<std::string> tags{spmanifest::field_type_name(f.type)};
            if (f.flags & SP_FIELD_DEFAULT) tags.emplace_back("shown by default");
            if (f.flags & SP_FIELD_HASHED) tags.emplace_back("hashed with sha256");
            if (f.flags & SP_FIELD_PREHASHED) tags.emplace_back("pre-hashed sha256, passed through");
            if (f.flags & SP_FIELD_MULTI) tags.emplace_back("several values");
            const std::string indent = g.empty() ? "  " : "    ";
            o << indent << f.name << "  (" << support::join(tags) << ")\n" << indent << "  " << f.description << "\n";
            if (!f.values.empty())
                o << indent << "  " << (f.flags & SP_FIELD_CLOSED_VALUES ? "values: " : "known values (others accepted): ")
                  << support::join(f.values) << "\n";
        }
    }
    if (!m.required.empty()) o << "\nRequired mapping (all rules must hold):\n";
    for (const auto &r : m.required) o << "  " << support::join(r.any_of, " or ") << "\n";
    return kExitOk;
}

}  // namespace synchost
