// Loads a destination plugin library with Boost.DLL and keeps it alive while anything from it
// (descriptor, instance, error) is in use: every handle holds a shared_ptr to the library.
#pragma once

#include <syncplugin/syncplugin.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace boost::dll { class shared_library; }

namespace synchost {

// A load failure; the message names the file and what was wrong.
class PluginLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Plugin {
public:
    // Loads `path` (RTLD_NOW | RTLD_LOCAL), finds the entry, negotiates the ABI major.
    // Throws PluginLoadError: missing file, not a plugin, ABI major mismatch (naming both majors),
    // or an entry table too small for this host.
    static std::shared_ptr<Plugin> load(const std::filesystem::path &path);

    ~Plugin();
    Plugin(const Plugin &) = delete;
    Plugin &operator=(const Plugin &) = delete;

    const sp_entry &entry() const { return *entry_; }
    const sp_descriptor &descriptor() const { return *descriptor_; }
    const std::filesystem::path &path() const { return path_; }

private:
    Plugin() = default;
    std::unique_ptr<boost::dll::shared_library> lib_;
    const sp_entry *entry_ = nullptr;
    const sp_descriptor *descriptor_ = nullptr;
    std::filesystem::path path_;
};

// An error object from a plugin, owned: released through the plugin's error_destroy.
struct PluginError {
    sp_error_category category = SP_ERR_NONE;
    int32_t code = 0;
    std::string message;
};

// Takes ownership of `e` (may be NULL), copies it out and releases it.
PluginError take_error(const Plugin &plugin, sp_error *e, const char *fallback);

// One open instance; closes and destroys itself (before the library can be unloaded).
class Instance {
public:
    Instance(std::shared_ptr<Plugin> plugin, sp_instance *raw) : plugin_(std::move(plugin)), raw_(raw) {}
    ~Instance();
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;

    sp_instance *raw() const { return raw_; }
    const Plugin &plugin() const { return *plugin_; }
    void close();

private:
    std::shared_ptr<Plugin> plugin_;
    sp_instance *raw_;
    bool closed_ = false;
};

const char *category_name(sp_error_category c);

}  // namespace synchost
