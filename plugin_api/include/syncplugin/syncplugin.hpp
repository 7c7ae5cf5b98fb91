// syncplugin.hpp: optional header-only C++ helpers for *plugin authors*.
//
// Nothing here is part of the ABI; a plugin may ignore this file and implement syncplugin.h
// directly. It gives:
//   - a concrete `struct sp_error` and the four error_* functions an entry table needs;
//   - sp::guard(), which runs a body and turns any exception into an SP_ERR_INTERNAL error, so no
//     exception ever crosses the C boundary (wrap every exported function with it);
//   - small readers for sp_value / sp_config.
#ifndef SYNCPLUGIN_HPP
#define SYNCPLUGIN_HPP

#include <syncplugin/syncplugin.h>

#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>

struct sp_error {
    sp_error_category category;
    int32_t code;
    std::string message;
};

namespace sp {

// An exception a plugin may throw internally to report a categorised failure; guard() converts it.
class failure : public std::exception {
public:
    failure(sp_error_category category, std::string message, int32_t code = 0)
        : category_(category), code_(code), message_(std::move(message)) {}
    const char *what() const noexcept override { return message_.c_str(); }
    sp_error_category category() const noexcept { return category_; }
    int32_t code() const noexcept { return code_; }

private:
    sp_error_category category_;
    int32_t code_;
    std::string message_;
};

// Stores a new error in *out (if out is non-NULL). Never throws: on allocation failure the error
// is dropped, and the caller still returns SP_FAILED.
inline sp_status fail(sp_error **out, sp_error_category category, std::string_view message,
                      int32_t code = 0) noexcept {
    if (out != nullptr) {
        try {
            *out = new sp_error{category, code, std::string(message)};
        } catch (...) {
            *out = nullptr;
        }
    }
    return SP_FAILED;
}

// Runs `body` (returning sp_status) and converts any escaping exception into an error object.
template <class Body>
sp_status guard(sp_error **out, Body &&body) noexcept {
    try {
        return std::forward<Body>(body)();
    } catch (const failure &f) {
        return fail(out, f.category(), f.what(), f.code());
    } catch (const std::bad_alloc &) {
        return fail(out, SP_ERR_INTERNAL, "out of memory");
    } catch (const std::exception &e) {
        return fail(out, SP_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(out, SP_ERR_INTERNAL, "internal error: unknown exception");
    }
}

// Same for functions that return nothing or a pointer: `fallback` is returned on exception.
template <class T, class Body>
T guard_value(T fallback, Body &&body) noexcept {
    try {
        return std::forward<Body>(body)();
    } catch (...) {
        return fallback;
    }
}

// Error accessors to put in the entry table.
inline sp_error_category error_category(const sp_error *e) { return e ? e->category : SP_ERR_NONE; }
inline int32_t error_code(const sp_error *e) { return e ? e->code : 0; }
inline const char *error_message(const sp_error *e) { return e ? e->message.c_str() : ""; }
inline void error_destroy(sp_error *e) { delete e; }

// Text of a TEXT value (empty view for other types).
inline std::string_view text_of(const sp_value &v) noexcept {
    return v.type == SP_VALUE_TEXT && v.as.text != nullptr ? std::string_view(v.as.text, v.len)
                                                           : std::string_view();
}

// Looks up a config entry by key; NULL when absent. Tolerates a NULL config and NULL entries.
inline const char *config_get(const sp_config *config, std::string_view key) noexcept {
    if (config == nullptr || config->entries == nullptr) return nullptr;
    for (uint32_t i = 0; i < config->entry_count; ++i) {
        const sp_config_entry *e = config->entries[i];
        if (e != nullptr && e->key != nullptr && key == e->key) return e->value;
    }
    return nullptr;
}

}  // namespace sp

#endif  // SYNCPLUGIN_HPP
