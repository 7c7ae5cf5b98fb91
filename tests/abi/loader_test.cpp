// The host's plugin loader against real libraries: the Pinterest plugin, a plugin of a future ABI
// major, and a plugin whose internals throw.
#include "exit_codes.hpp"
#include "plugin/capabilities.hpp"
#include "plugin/loader.hpp"

#include <manifest/manifest.hpp>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstring>

using namespace synchost;

TEST(Loader, LoadsThePinterestPluginAndReadsItsCapabilities) {
    auto p = Plugin::load(PINTEREST_PLUGIN);
    const auto m = spmanifest::from_descriptor(p->descriptor());
    EXPECT_EQ(m.id, "pinterest_conversions");
    EXPECT_EQ(m.sync_modes, SP_SYNC_INSERT);
    EXPECT_EQ(m.audience_modes, SP_AUDIENCE_ADD);
    EXPECT_EQ(m.features, SP_FEATURE_FIELD_MAPPING | SP_FEATURE_TEST_EVENTS);
    EXPECT_EQ(m.auth.scopes, (std::vector<std::string>{"ads:write", "ads:read"}));
    EXPECT_EQ(m.max_batch_records, 1000u);
    ASSERT_NE(m.config_field("ad_account_id"), nullptr);
    EXPECT_TRUE(m.config_field("ad_account_id")->required);
    ASSERT_EQ(m.required.size(), 2u);
    EXPECT_EQ(m.required[1].any_of, (std::vector<std::string>{"email", "hashed_email"}));
}

TEST(Loader, RefusesAPluginOfTheNextAbiMajorNamingBothMajors) {
    try {
        Plugin::load(FUTURE_PLUGIN);
        FAIL() << "a major-2 plugin was accepted";
    } catch (const PluginLoadError &e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("plugin speaks ABI major 2"), std::string::npos) << msg;
        EXPECT_NE(msg.find("this host speaks ABI major 1"), std::string::npos) << msg;
    }
}

TEST(Loader, PluginRefusesAHostOfAnotherMajor) {
    auto p = Plugin::load(PINTEREST_PLUGIN);
    // The same library, asked by a (hypothetical) major-2 host, must answer NULL.
    EXPECT_EQ(p->entry().abi_major, SP_ABI_MAJOR);
    void *h = dlopen(PINTEREST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr);
    auto get = reinterpret_cast<sp_get_entry_fn>(dlsym(h, SP_ENTRY_SYMBOL));
    EXPECT_EQ(get(SP_ABI_MAJOR + 1), nullptr);
    EXPECT_NE(get(SP_ABI_MAJOR), nullptr);
    dlclose(h);
}

namespace {

// The message of the PluginLoadError that loading `path` throws; a test failure when it loads.
std::string load_error(const std::string &path) {
    try {
        Plugin::load(path);
    } catch (const PluginLoadError &e) {
        return e.what();
    }
    ADD_FAILURE() << path << " loaded";
    return "";
}

}  // namespace

TEST(Loader, MissingFileAndNonPluginAreClearErrors) {
    EXPECT_NE(load_error("/nonexistent/libnothing.so").find("no such plugin file"), std::string::npos);
    EXPECT_NE(load_error(FUTURE_PLUGIN "-missing").find("no such plugin file"), std::string::npos);
    // A file that is not a shared library at all, and a shared library without the entry symbol.
    const std::string text = load_error(FIXTURES_DIR "/broken_sample.jsonl");
    EXPECT_NE(text.find("cannot load"), std::string::npos) << text;
    Dl_info libc{};
    ASSERT_NE(dladdr(reinterpret_cast<void *>(&::strlen), &libc), 0);
    const std::string no_entry = load_error(libc.dli_fname);
    EXPECT_NE(no_entry.find("not a syncplugin (no sp_get_entry symbol)"), std::string::npos) << no_entry;
}

TEST(Loader, ThrowingStubReturnsErrorsAndNeverThrowsAcrossTheBoundary) {
    auto p = Plugin::load(THROWING_PLUGIN);
    const sp_entry &e = p->entry();
    sp_error *err = nullptr;
    ASSERT_EQ(e.check(nullptr, nullptr, &err), SP_FAILED);
    PluginError pe = take_error(*p, err, "none");
    EXPECT_EQ(pe.category, SP_ERR_INTERNAL);
    EXPECT_NE(pe.message.find("stub failure"), std::string::npos);

    sp_instance *inst = reinterpret_cast<sp_instance *>(0x1);
    err = nullptr;
    EXPECT_EQ(e.open(nullptr, nullptr, &inst, &err), SP_FAILED);
    EXPECT_EQ(inst, nullptr);
    take_error(*p, err, "none");

    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    err = nullptr;
    EXPECT_EQ(e.write_batch(nullptr, nullptr, &wr, &err), SP_FAILED);  // throws a non-std exception inside
    EXPECT_EQ(take_error(*p, err, "none").message, "internal error: unknown exception");
    err = nullptr;
    EXPECT_EQ(e.flush(nullptr, &err), SP_FAILED);  // throws bad_alloc inside
    EXPECT_EQ(take_error(*p, err, "none").message, "out of memory");
    EXPECT_NO_THROW(e.close(nullptr));
    EXPECT_NO_THROW(e.destroy(nullptr));
    EXPECT_EQ(e.get_extension("anything"), nullptr);
}

TEST(Capabilities, RefusesUndeclaredModesNamingWhatIsSupported) {
    auto p = Plugin::load(PINTEREST_PLUGIN);
    const auto m = spmanifest::from_descriptor(p->descriptor());
    EXPECT_NO_THROW(require_sync_mode(m, "insert"));
    EXPECT_NO_THROW(require_audience_mode(m, "add"));
    for (const char *mode : {"update", "upsert", "mirror"}) {
        try {
            require_sync_mode(m, mode);
            FAIL() << mode << " accepted";
        } catch (const CliError &e) {
            EXPECT_EQ(std::string(e.what()), "pinterest_conversions supports sync mode insert only");
            EXPECT_EQ(e.code(), kExitConfig);
        }
    }
    for (const char *mode : {"remove", "mirror", "upsert"}) {
        try {
            require_audience_mode(m, mode);
            FAIL() << mode << " accepted";
        } catch (const CliError &e) {
            EXPECT_EQ(std::string(e.what()), "pinterest_conversions supports audience sync mode add only");
        }
    }
    try {
        require_sync_mode(m, "insret");
        FAIL();
    } catch (const CliError &e) {
        EXPECT_NE(std::string(e.what()).find("did you mean \"insert\""), std::string::npos) << e.what();
    }
}
