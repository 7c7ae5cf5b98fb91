// syncplugin-airbyte: any syncplugin plugin as an Airbyte destination. Speaks the Airbyte protocol
// (v0) on stdin/stdout: spec, check --config F, discover --config F, write --config F --catalog F.
// The plugin is --plugin (a path to a .so, or an id on the plugin path) or, in a container,
// $SYNCPLUGIN_AIRBYTE_PLUGIN. See README "Run a plugin inside Airbyte".
#include "adapter_host.hpp"
#include "connector.hpp"
#include "output.hpp"
#include "write.hpp"

#include "plugin/catalog.hpp"
#include "plugin/loader.hpp"
#include "sync/abi_params.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

namespace json = boost::json;
using airbyte::Failure;
using airbyte::Output;

std::atomic<bool> g_cancel{false};

const char *kUsage =
    "usage: syncplugin-airbyte [--plugin PLUGIN] [--plugin-path DIRS] COMMAND\n"
    "  spec\n"
    "  check --config CONFIG.json\n"
    "  discover --config CONFIG.json\n"
    "  write --config CONFIG.json --catalog CATALOG.json   (Airbyte messages on stdin)\n"
    "PLUGIN is a .so path or a plugin id on the plugin path; default $SYNCPLUGIN_AIRBYTE_PLUGIN.\n";

json::object read_object(const std::string &path, const char *what) {
    std::ifstream f(path);
    if (!f) throw airbyte::ConfigError(std::string("cannot read the ") + what + " file " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    json::error_code ec;
    json::value v = json::parse(ss.str(), ec);
    if (ec || !v.is_object())
        throw airbyte::ConfigError(std::string("the ") + what + " file " + path + " is not a JSON object");
    return v.as_object();
}

// check: the plugin's own check, including the live one (the token is in the config).
int check(const std::shared_ptr<synchost::Plugin> &plugin, const json::object &config, Output &out) {
    const airbyte::Connection conn =
        airbyte::read_connection(config, spmanifest::from_descriptor(plugin->descriptor()));
    synchost::AbiConfig abi(conn.config);
    airbyte::AdapterHost host(out, conn.token, g_cancel);
    sp_error *err = nullptr;
    if (plugin->entry().check(abi.get(), host.get(), &err) != SP_OK) {
        out.connection_status(false, synchost::take_error(*plugin, err, "check failed").message);
        return 0;  // a failed check is an answer, not a crash
    }
    out.connection_status(true,
                          std::string(plugin->entry().plugin_id) + " accepted the configuration and the credentials");
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    std::signal(SIGTERM, [](int) { g_cancel.store(true); });
    Output out(std::cout);
    std::string plugin_name, plugin_path, command, config_file, catalog_file;
    if (const char *p = std::getenv("SYNCPLUGIN_AIRBYTE_PLUGIN")) plugin_name = p;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n" << kUsage;
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--plugin")
            plugin_name = value();
        else if (a == "--plugin-path")
            plugin_path = value();
        else if (a == "--config")
            config_file = value();
        else if (a == "--catalog")
            catalog_file = value();
        else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (command.empty() && a.rfind("--", 0) != 0)
            command = a;
        else {
            std::cerr << "unknown argument " << a << "\n" << kUsage;
            return 2;
        }
    }
    const bool known = command == "spec" || command == "check" || command == "discover" || command == "write";
    if (!known || plugin_name.empty() || (command != "spec" && config_file.empty()) ||
        (command == "write" && catalog_file.empty())) {
        std::cerr << kUsage;
        return 2;
    }
    try {
        const synchost::CatalogEntry entry =
            synchost::find_plugin(plugin_name, synchost::plugin_search_path(plugin_path));
        const std::shared_ptr<synchost::Plugin> plugin = synchost::Plugin::load(entry.library);
        const spmanifest::Manifest m = spmanifest::from_descriptor(plugin->descriptor());
        if (command == "spec") {
            out.spec(airbyte::connector_specification(m));
            return 0;
        }
        const json::object config = read_object(config_file, "config");
        if (command == "check") return check(plugin, config, out);
        if (command == "discover") {
            airbyte::read_connection(config, m);  // a config the adapter cannot use is an error here too
            out.destination_catalog(airbyte::destination_catalog(m));
            return 0;
        }
        return airbyte::run_write(plugin, config, read_object(catalog_file, "catalog"), std::cin, out, g_cancel);
    } catch (const airbyte::ConfigError &e) {
        if (command == "check") {
            out.connection_status(false, e.what());
            return 0;
        }
        out.error(Failure::config, e.what());
    } catch (const std::exception &e) {
        out.error(Failure::config, e.what());  // the plugin could not be found or loaded
    }
    return 1;
}
