// Lifecycle: open/close/destroy, idempotent close, misuse after close, refused modes.
#include "harness.hpp"

#include <manifest/manifest.hpp>

namespace harness {
namespace {

Register open_close("lifecycle.open_close", "open, flush with nothing written, close, destroy", [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    sp_error *err = nullptr;
    expect(f.entry.flush(inst, &err) == SP_OK, "empty flush failed: " + take(f.entry, err).message);
    f.entry.close(inst);
    f.entry.destroy(inst);
});

Register double_close("lifecycle.double_close", "close twice, then destroy (close is idempotent)", [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    f.entry.close(inst);
    f.entry.close(inst);
    f.entry.destroy(inst);
    f.entry.destroy(nullptr);
});

Register after_close("lifecycle.write_after_close", "write_batch and flush after close are refused, with n results",
                     [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    Batch b = f.sample_batch(3);
    f.entry.close(inst);
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    sp_error *err = nullptr;
    sp_status s = f.entry.write_batch(inst, b.get(), &wr, &err);
    Error e = take(f.entry, err);
    expect(s != SP_OK && e.present, "write_batch after close was accepted");
    expect(wr.record_count == 3, "write after close gave " + std::to_string(wr.record_count) + " results for 3 records");
    for (uint32_t i = 0; i < wr.record_count; ++i)
        expect(sp_result_at(&wr, i)->status == SP_RECORD_RETRY, "a record written after close is not RETRY");
    err = nullptr;
    expect(f.entry.flush(inst, &err) != SP_OK, "flush after close was accepted");
    take(f.entry, err);
    f.entry.destroy(inst);
});

Register bad_open("lifecycle.open_bad_config", "open with a bad config fails with no instance", [](const Options &o) {
    Fixture f(o);
    Config c({});
    Mapping m(o.mapping);
    sp_open_params p = f.params(c, m);
    sp_instance *inst = reinterpret_cast<sp_instance *>(0x1);
    sp_error *err = nullptr;
    auto man = f.manifest();
    bool any_required = false;
    for (const auto &k : man.config) any_required = any_required || k.required;
    if (!any_required) skip("plugin has no required config");
    sp_status s = f.entry.open(&p, nullptr, &inst, &err);
    Error e = take(f.entry, err);
    expect(s != SP_OK, "open without required config succeeded");
    expect(inst == nullptr, "failed open left *out_instance non-NULL");
    expect(e.category == SP_ERR_CONFIG, "failed open gave category " + std::to_string(e.category) + ", not CONFIG");
});

Register modes("lifecycle.unsupported_modes", "every undeclared sync/audience mode is refused at open, naming what is supported",
               [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    Config c(o.config);
    Mapping m(o.mapping);
    auto man = f.manifest();
    const auto supported_sync = spmanifest::sync_mode_names(man.sync_modes);
    const auto supported_aud = spmanifest::audience_mode_names(man.audience_modes);
    for (int kind = 0; kind < 2; ++kind) {
        const uint32_t declared = kind == 0 ? man.sync_modes : man.audience_modes;
        const auto &supported = kind == 0 ? supported_sync : supported_aud;
        for (uint32_t bit = 1; bit <= 8; bit <<= 1) {
            if (declared & bit) continue;
            sp_open_params p = f.params(c, m);
            p.target_kind = kind == 0 ? SP_TARGET_SYNC : SP_TARGET_AUDIENCE;
            p.sync_mode = kind == 0 ? bit : 0;
            p.audience_mode = kind == 0 ? 0 : bit;
            sp_instance *inst = nullptr;
            sp_error *err = nullptr;
            sp_status s = f.entry.open(&p, nullptr, &inst, &err);
            Error e = take(f.entry, err);
            if (s == SP_OK) {
                f.entry.destroy(inst);
                fail(std::string(kind == 0 ? "sync" : "audience") + " mode bit " + std::to_string(bit) +
                     " is not declared but open accepted it");
            }
            expect(e.category == SP_ERR_UNSUPPORTED, "refused mode gave category " + std::to_string(e.category));
            bool names_supported = supported.empty();
            for (const auto &n : supported) names_supported = names_supported || e.message.find(n) != std::string::npos;
            expect(names_supported, "refusal does not say what is supported: " + e.message);
        }
    }
});

}  // namespace
}  // namespace harness
