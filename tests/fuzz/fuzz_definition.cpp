// fuzz_definition: the sync-definition reader on arbitrary bytes.
// The input is written to a file (load_definition reads a path) in a private directory under
// /dev/shm, then loaded and checked against the Pinterest manifest. synchost::CliError is the only
// acceptable failure; any other exception, a crash, UB or a leak is a finding. A definition that
// loads must be internally consistent (every TEXT constant points at its own storage).
#include "exit_codes.hpp"
#include "fuzz_common.hpp"
#include "sync/definition.hpp"

#include <manifest/manifest.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <typeinfo>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const spmanifest::Manifest *g_manifest = nullptr;
fs::path g_dir;
fs::path g_file;

[[noreturn]] void finding(const char *what, const std::string &detail) {
    fuzz::finding("fuzz_definition", std::string(what) + ": " + detail);
}

void check_loaded(const synchost::SyncDefinition &d) {
    for (const auto &e : d.mapping) {
        if (e.value.type == SP_VALUE_TEXT && (e.value.as.text != e.text.c_str() || e.value.len != e.text.size()))
            finding("invariant", "TEXT constant of " + e.destination + " does not point at its text");
        if (!e.constant && e.column.empty()) finding("invariant", "mapping entry without column or constant");
    }
    if (d.name.empty() || d.plugin.empty()) finding("invariant", "loaded definition without name or plugin");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    std::ifstream in(SP_MANIFEST_FILE, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    g_manifest = new spmanifest::Manifest(spmanifest::parse(ss.str()));
    const char *base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    g_dir = fs::path(base) / ("fuzz_definition." + std::to_string(::getpid()));
    fs::create_directories(g_dir);
    g_file = g_dir / "sync.json";
    std::atexit([] {
        std::error_code ec;
        fs::remove_all(g_dir, ec);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    {
        std::FILE *f = std::fopen(g_file.c_str(), "wb");
        if (f == nullptr) finding("setup", "cannot write " + g_file.string());
        if (size) std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    try {
        synchost::SyncDefinition d = synchost::load_definition(g_file);
        check_loaded(d);
        synchost::check_against(d, *g_manifest);
        check_loaded(d);
    } catch (const synchost::CliError &e) {
        if (e.code() != synchost::kExitConfig) finding("CliError with an unexpected exit code", e.what());
        if (std::string(e.what()).empty()) finding("CliError", "empty message");
    } catch (const std::exception &e) {
        finding("unexpected exception (not CliError)", std::string(typeid(e).name()) + ": " + e.what());
    } catch (...) {
        finding("unexpected exception", "not derived from std::exception");
    }
    return 0;
}
