// Loading: the library, its single export, ABI major negotiation, the entry table, scan time.
#include "harness.hpp"

#include <chrono>
#include <cstring>
#include <dlfcn.h>

namespace harness {
namespace {

Register load_rtld_now("load.rtld_now", "loads with RTLD_NOW | RTLD_LOCAL (every symbol resolves)",
                       [](const Options &o) { Library lib(o.library); });

Register single_export("load.single_export", "exports exactly one symbol, " SP_ENTRY_SYMBOL, [](const Options &o) {
    auto names = exported_symbols(o.library);
    std::string list;
    for (const auto &n : names) list += (list.empty() ? "" : ", ") + n;
    expect(names.size() == 1 && names[0] == SP_ENTRY_SYMBOL,
           "expected only " SP_ENTRY_SYMBOL " to be exported, found " + std::to_string(names.size()) + ": " +
               list.substr(0, 400));
});

Register version_refusal("load.version_refusal", "refuses ABI majors other than its own (returns NULL)",
                         [](const Options &o) {
                             Library lib(o.library);
                             expect(lib.get_entry()(SP_ABI_MAJOR) != nullptr, "refused its own ABI major");
                             for (uint32_t major : {0u, SP_ABI_MAJOR + 1, 0xFFFFFFFFu})
                                 expect(lib.get_entry()(major) == nullptr,
                                        "returned an entry for ABI major " + std::to_string(major));
                         });

Register entry_sane("load.entry_table", "entry table: size, ABI version, every required slot, plugin id",
                    [](const Options &o) {
                        Library lib(o.library);
                        const sp_entry &e = lib.entry();
                        expect(e.struct_size >= offsetof(sp_entry, error_destroy) + sizeof(void *),
                               "entry struct_size " + std::to_string(e.struct_size) + " is smaller than ABI 1.0's");
                        expect(e.abi_major == SP_ABI_MAJOR, "entry abi_major is " + std::to_string(e.abi_major));
                        const void *slots[] = {(const void *)e.describe, (const void *)e.get_extension,
                                               (const void *)e.check, (const void *)e.open,
                                               (const void *)e.write_batch, (const void *)e.flush,
                                               (const void *)e.close, (const void *)e.destroy,
                                               (const void *)e.error_category, (const void *)e.error_code,
                                               (const void *)e.error_message, (const void *)e.error_destroy};
                        for (size_t i = 0; i < sizeof slots / sizeof *slots; ++i)
                            expect(slots[i] != nullptr, "entry slot " + std::to_string(i) + " is NULL");
                        expect(e.plugin_id && e.plugin_id[0], "entry has no plugin_id");
                        const sp_descriptor *d = e.describe();
                        expect(d && d->id && std::strcmp(d->id, e.plugin_id) == 0,
                               "entry plugin_id differs from the descriptor id");
                        expect(lib.get_entry()(SP_ABI_MAJOR) == &e, "sp_get_entry is not idempotent");
                    });

Register scan_time("load.scan_time", "load + describe takes < 100 ms and no network", [](const Options &o) {
    auto t0 = std::chrono::steady_clock::now();
    Library lib(o.library);
    const sp_descriptor *d = lib.entry().describe();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    expect(d != nullptr, "describe() returned NULL");
    expect(ms < 100, "load + describe took " + std::to_string(ms) + " ms");
});

Register unload("load.unload_reload", "unloads and loads again with the same answers", [](const Options &o) {
    std::string first;
    for (int i = 0; i < 3; ++i) {
        Library lib(o.library);
        const sp_descriptor *d = lib.entry().describe();
        expect(d != nullptr, "describe() returned NULL");
        std::string id = d->id ? d->id : "";
        if (i == 0) first = id;
        expect(id == first, "descriptor id changed across reloads");
    }
    void *still = ::dlopen(o.library.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (still != nullptr) {
        ::dlclose(still);
        fail("library stays mapped after dlclose (STB_GNU_UNIQUE symbols or NODELETE); it cannot be unloaded");
    }
});

}  // namespace
}  // namespace harness
