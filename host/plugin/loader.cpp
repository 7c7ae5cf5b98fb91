#include "plugin/loader.hpp"

#include <boost/dll/shared_library.hpp>

#include <mutex>

namespace synchost {

namespace {

// dlopen is not thread-safe everywhere (Boost.DLL limitations); loads are serialized.
std::mutex g_load_mutex;

}  // namespace

std::shared_ptr<Plugin> Plugin::load(const std::filesystem::path &path) {
    std::lock_guard lock(g_load_mutex);
    const std::string where = path.string();
    if (!std::filesystem::exists(path)) throw PluginLoadError(where + ": no such plugin file");

    auto p = std::shared_ptr<Plugin>(new Plugin());
    p->path_ = path;
    boost::dll::fs::error_code ec;
    p->lib_ = std::make_unique<boost::dll::shared_library>(
        path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec) throw PluginLoadError(where + ": cannot load: " + ec.message());
    if (!p->lib_->has(SP_ENTRY_SYMBOL))
        throw PluginLoadError(where + ": not a syncplugin (no " SP_ENTRY_SYMBOL " symbol)");
    auto get_entry = p->lib_->get<const sp_entry *(uint32_t)>(SP_ENTRY_SYMBOL);
    p->entry_ = get_entry(SP_ABI_MAJOR);
    if (p->entry_ == nullptr) {
        // Find out which major it speaks, for a message a user can act on.
        for (uint32_t major = 0; major < 16; ++major) {
            if (major == SP_ABI_MAJOR) continue;
            if (get_entry(major) != nullptr)
                throw PluginLoadError(where + ": plugin speaks ABI major " + std::to_string(major) +
                                      "; this host speaks ABI major " + std::to_string(SP_ABI_MAJOR) +
                                      " (rebuild the plugin or use a matching host)");
        }
        throw PluginLoadError(where + ": plugin refused ABI major " + std::to_string(SP_ABI_MAJOR));
    }
    const sp_entry &e = *p->entry_;
    if (e.abi_major != SP_ABI_MAJOR)
        throw PluginLoadError(where + ": entry reports ABI major " + std::to_string(e.abi_major) +
                              ", host speaks " + std::to_string(SP_ABI_MAJOR));
    if (e.struct_size < offsetof(sp_entry, error_destroy) + sizeof(e.error_destroy))
        throw PluginLoadError(where + ": entry table too small for ABI 1.0");
    if (!e.describe || !e.check || !e.open || !e.write_batch || !e.flush || !e.close || !e.destroy ||
        !e.error_category || !e.error_code || !e.error_message || !e.error_destroy)
        throw PluginLoadError(where + ": entry table has empty required slots");
    p->descriptor_ = e.describe();
    if (p->descriptor_ == nullptr || p->descriptor_->struct_size < offsetof(sp_descriptor, manifest_json))
        throw PluginLoadError(where + ": describe() returned no usable descriptor");
    if (p->descriptor_->id == nullptr || p->descriptor_->id[0] == '\0')
        throw PluginLoadError(where + ": descriptor has no id");
    return p;
}

Plugin::~Plugin() = default;

PluginError take_error(const Plugin &plugin, sp_error *e, const char *fallback) {
    PluginError out;
    if (e == nullptr) {
        out.category = SP_ERR_INTERNAL;
        out.message = fallback;
        return out;
    }
    const sp_entry &en = plugin.entry();
    out.category = en.error_category(e);
    out.code = en.error_code(e);
    const char *m = en.error_message(e);
    out.message = m ? m : fallback;
    en.error_destroy(e);
    return out;
}

Instance::~Instance() {
    close();
    if (raw_) plugin_->entry().destroy(raw_);
}

void Instance::close() {
    if (closed_ || raw_ == nullptr) return;
    closed_ = true;
    plugin_->entry().close(raw_);
}

const char *category_name(sp_error_category c) {
    switch (c) {
    case SP_ERR_NONE: return "none";
    case SP_ERR_CONFIG: return "config";
    case SP_ERR_AUTH: return "auth";
    case SP_ERR_PERMISSION: return "permission";
    case SP_ERR_RATE_LIMIT: return "rate_limit";
    case SP_ERR_TRANSIENT: return "transient";
    case SP_ERR_DATA: return "data";
    case SP_ERR_INTERNAL: return "internal";
    case SP_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

}  // namespace synchost
