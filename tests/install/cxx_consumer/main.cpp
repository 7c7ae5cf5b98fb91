// Uses the installed C++ helper: sp::guard turns an exception into an error object.
#include <syncplugin/syncplugin.hpp>

#include <cstdio>

int main() {
    sp_error *err = nullptr;
    const sp_status s = sp::guard(&err, []() -> sp_status { throw sp::failure(SP_ERR_CONFIG, "bad key"); });
    const bool ok = s == SP_FAILED && err != nullptr && sp::error_category(err) == SP_ERR_CONFIG &&
                    std::string(sp::error_message(err)) == "bad key";
    sp::error_destroy(err);
    std::printf("cxx_consumer: %s (C++ %ld)\n", ok ? "ok" : "FAILED", static_cast<long>(__cplusplus));
    return ok ? 0 : 1;
}
