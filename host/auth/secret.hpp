// Secret hygiene for tokens and client secrets: strings that are wiped (OPENSSL_cleanse) when no
// longer needed, and a JSON allocator that wipes every block it frees, so parsed or serialized
// credentials do not linger in freed heap memory. Best effort: copies made by libraries we call
// (Beast header fields, OpenSSL buffers) are outside our reach.
#pragma once

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace synchost::auth {

// Overwrites the whole buffer of `s` (up to its capacity, so bytes left over from earlier, longer
// contents go too) and empties it.
void cleanse(std::string &s) noexcept;

// dst += text, but when dst must grow its old buffer is wiped before release (a plain append would
// leave a copy of everything so far in freed memory).
void append_cleansed(std::string &dst, std::string_view text);

// A string that is wiped when destroyed, reassigned or moved from.
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    explicit Secret(std::string_view value) : value_(value) {}
    Secret(const Secret &other) = default;
    Secret(Secret &&other) noexcept;
    Secret &operator=(const Secret &other);
    Secret &operator=(Secret &&other) noexcept;
    ~Secret() { cleanse(value_); }

    const std::string &str() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }
    bool operator==(std::string_view other) const noexcept;

private:
    std::string value_;
};

// True when `token` can be sent as a bearer token: visible ASCII only. A CR or LF would end the
// Authorization header and start another one (header injection); spaces and other bytes have no
// place in an OAuth token (RFC 6750 b64token) either.
inline bool fits_a_header(std::string_view token) noexcept {
    for (unsigned char c : token)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

// `bytes` bytes from RAND_bytes as lowercase hex (the OAuth state, temp file names). Throws
// std::runtime_error when the generator fails.
std::string random_hex(size_t bytes);

// Storage for boost::json values that hold secrets: every block is wiped before it is freed.
boost::json::storage_ptr cleansing_storage() noexcept;

// boost::json::serialize(v), built with append_cleansed.
std::string serialize_cleansed(const boost::json::value &v);

}  // namespace synchost::auth
