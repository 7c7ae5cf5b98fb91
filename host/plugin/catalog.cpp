#include "plugin/catalog.hpp"

#include <support/suggest.hpp>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

// Where the installed synchost finds its plugins, relative to its own directory; host/CMakeLists.txt
// sets it from the install layout (e.g. ../lib/x86_64-linux-gnu/synchost/plugins).
#ifndef SYNCHOST_INSTALLED_PLUGIN_DIR
#define SYNCHOST_INSTALLED_PLUGIN_DIR "../lib/synchost/plugins"
#endif

namespace synchost {

namespace fs = std::filesystem;

namespace {

fs::path executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::current_path() : exe.parent_path();
}

void split_into(const std::string &list, std::vector<fs::path> &out) {
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        if (end > start) out.emplace_back(list.substr(start, end - start));
        start = end + 1;
    }
}

// NAME of libNAME.so or NAME.so.
std::string id_of_library(const fs::path &library) {
    std::string id = library.stem().string();
    if (id.size() > 3 && id.rfind("lib", 0) == 0) id = id.substr(3);
    return id;
}

}  // namespace

std::vector<fs::path> plugin_search_path(const std::string &option) {
    std::vector<fs::path> dirs;
    split_into(option, dirs);
    if (const char *env = std::getenv("SYNCHOST_PLUGIN_PATH")) split_into(env, dirs);
    const fs::path exe = executable_dir();
    dirs.push_back(exe / ".." / "plugins");              // build tree: build/host/synchost -> build/plugins
    dirs.push_back(exe / SYNCHOST_INSTALLED_PLUGIN_DIR);  // installed layout
    return dirs;
}

std::vector<CatalogEntry> discover_plugins(const std::vector<fs::path> &dirs) {
    std::vector<CatalogEntry> out;
    for (const auto &dir : dirs) {
        std::error_code ec;
        for (const auto &e : fs::directory_iterator(dir, ec)) {
            const std::string file = e.path().filename().string();
            // Any NAME.so is a candidate, with or without the "lib" prefix CMake gives it:
            // libNAME.so and NAME.so both list as NAME (a library that is not a plugin lists as
            // unusable, with the reason, rather than being skipped without a word).
            if (e.path().extension() != ".so" || !e.is_regular_file(ec)) continue;
            CatalogEntry c;
            c.id = id_of_library(e.path());
            if (c.id.empty()) continue;
            if (std::any_of(out.begin(), out.end(), [&](const CatalogEntry &x) { return x.id == c.id; })) continue;
            c.library = fs::weakly_canonical(e.path(), ec);
            if (ec) c.library = e.path();
            const fs::path manifest = e.path().parent_path() / (c.id + ".json");
            if (fs::exists(manifest, ec)) c.manifest = manifest;
            out.push_back(std::move(c));
        }
    }
    std::sort(out.begin(), out.end(), [](const CatalogEntry &a, const CatalogEntry &b) { return a.id < b.id; });
    return out;
}

CatalogEntry find_plugin(const std::string &name, const std::vector<fs::path> &dirs) {
    if (name.find('/') != std::string::npos || (name.size() > 3 && name.ends_with(".so"))) {
        CatalogEntry c;
        c.library = name;
        c.id = id_of_library(name);
        return c;
    }
    const auto all = discover_plugins(dirs);
    for (const auto &c : all)
        if (c.id == name) return c;
    std::vector<std::string> ids;
    for (const auto &c : all) ids.push_back(c.id);
    std::string searched;
    for (const auto &d : dirs) searched += (searched.empty() ? "" : ":") + d.lexically_normal().string();
    throw std::runtime_error("unknown plugin \"" + name + "\"" + support::did_you_mean(name, ids) +
                             (ids.empty() ? "; no plugins found" : "; known plugins: " + support::join(ids)) +
                             " (searched " + searched + "; set --plugin-path or SYNCHOST_PLUGIN_PATH)");
}

}  // namespace synchost
