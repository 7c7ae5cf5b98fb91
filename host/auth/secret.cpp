#include "auth/secret.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <boost/json/memory_resource.hpp>
#include <boost/json/serializer.hpp>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <vector>

namespace synchost::auth {

void cleanse(std::string &s) noexcept {
    // resize() up to the capacity never reallocates, and makes the tail legally writable.
    s.resize(s.capacity());
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

void append_cleansed(std::string &dst, std::string_view text) {
    if (dst.size() + text.size() > dst.capacity()) {
        std::string bigger;
        bigger.reserve(std::max<size_t>(2 * (dst.size() + text.size()), 256));
        bigger.append(dst);
        cleanse(dst);
        dst.swap(bigger);
    }
    dst.append(text);
}

Secret::Secret(Secret &&other) noexcept : value_(other.value_) {
    cleanse(other.value_);
}

Secret &Secret::operator=(const Secret &other) {
    if (this != &other) {
        cleanse(value_);
        value_ = other.value_;
    }
    return *this;
}

Secret &Secret::operator=(Secret &&other) noexcept {
    if (this != &other) {
        cleanse(value_);
        // A copy, not a move: moving a short string leaves its bytes in the source's inline buffer.
        value_ = other.value_;
        cleanse(other.value_);
    }
    return *this;
}

bool Secret::operator==(std::string_view other) const noexcept {
    return value_.size() == other.size() && CRYPTO_memcmp(value_.data(), other.data(), other.size()) == 0;
}

std::string random_hex(size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * bytes);
    for (unsigned char b : raw) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    OPENSSL_cleanse(raw.data(), raw.size());
    return out;
}

namespace {

// Plain operator new/delete, with a wipe before every delete. Stateless, so one shared instance
// serves every thread.
class CleansingResource final : public boost::json::memory_resource {
    // Boost.JSON may free a block with another alignment than it allocated it with (both at most
    // the default), so only over-aligned requests use the aligned forms, as Boost's own default
    // resource does; the forms must match between new and delete.
    static bool over_aligned(std::size_t align) { return align > __STDCPP_DEFAULT_NEW_ALIGNMENT__; }
    void *do_allocate(std::size_t bytes, std::size_t align) override {
        return over_aligned(align) ? ::operator new(bytes, std::align_val_t(align)) : ::operator new(bytes);
    }
    void do_deallocate(void *p, std::size_t bytes, std::size_t align) override {
        OPENSSL_cleanse(p, bytes);
        if (over_aligned(align)) ::operator delete(p, std::align_val_t(align));
        else ::operator delete(p);
    }
    bool do_is_equal(const memory_resource &other) const noexcept override { return this == &other; }
};

}  // namespace

boost::json::storage_ptr cleansing_storage() noexcept {
    static CleansingResource resource;
    return boost::json::storage_ptr(&resource);
}

std::string serialize_cleansed(const boost::json::value &v) {
    boost::json::serializer sr;
    sr.reset(&v);
    std::string out;
    char buf[1024];
    while (!sr.done()) append_cleansed(out, sr.read(buf, sizeof buf));
    OPENSSL_cleanse(buf, sizeof buf);
    return out;
}

}  // namespace synchost::auth
