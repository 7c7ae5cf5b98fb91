#include "net/system_trust.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace spnet {

namespace {

std::atomic<int> bundle_reads{0};

// An environment variable as OpenSSL reads it (ignored in a setuid process), or "(unset)".
std::string variable(const char *name) {
    const char *value = secure_getenv(name);
    return value ? std::string("=") + value : std::string("(unset)");
}

}  // namespace

// Step 2's store of one context, made when a chain first needs it and kept while the context lives.
class SystemTrust {
public:
    explicit SystemTrust(std::string ca_file) : ca_file_(std::move(ca_file)) {}
    ~SystemTrust() { X509_STORE_free(everything_); }
    SystemTrust(const SystemTrust &) = delete;
    SystemTrust &operator=(const SystemTrust &) = delete;

    // What set_default_verify_paths and the CA file trust, read on the first call; nullptr if
    // OpenSSL could not make a store. On the context's thread only.
    X509_STORE *everything() {
        if (tried_) return everything_;
        tried_ = true;
        everything_ = X509_STORE_new();
        if (everything_ == nullptr) return nullptr;
        // Each part trusts nothing more when it is missing or unreadable, as for a context.
        X509_STORE_set_default_paths(everything_);
        if (!ca_file_.empty()) X509_STORE_load_file(everything_, ca_file_.c_str());
        ERR_clear_error();
        ++bundle_reads;
        return everything_;
    }

private:
    std::string ca_file_;
    bool tried_ = false;
    X509_STORE *everything_ = nullptr;
};

namespace {

// Verifies `first`'s chain again against `store`, as the connection would have: the same leaf,
// the certificates the server sent, the parameters (host name or address, purpose, depth, time),
// the connection and the verify callback. Leaves the outcome, as the connection reads it, in
// `first`: the error and its depth, and the chain verified.
bool verify_again(X509_STORE_CTX *first, X509_STORE *store) {
    const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> again(X509_STORE_CTX_new(),
                                                                                X509_STORE_CTX_free);
    if (!again ||
        X509_STORE_CTX_init(again.get(), store, X509_STORE_CTX_get0_cert(first),
                            X509_STORE_CTX_get0_untrusted(first)) != 1 ||
        X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(again.get()), X509_STORE_CTX_get0_param(first)) != 1)
        return false;
    const int ssl_index = SSL_get_ex_data_X509_STORE_CTX_idx();
    X509_STORE_CTX_set_ex_data(again.get(), ssl_index, X509_STORE_CTX_get_ex_data(first, ssl_index));
    X509_STORE_CTX_set_verify_cb(again.get(), X509_STORE_CTX_get_verify_cb(first));
    const bool ok = X509_verify_cert(again.get()) > 0;
    X509_STORE_CTX_set_error(first, X509_STORE_CTX_get_error(again.get()));
    X509_STORE_CTX_set_error_depth(first, X509_STORE_CTX_get_error_depth(again.get()));
    X509_STORE_CTX_set0_verified_chain(first, X509_STORE_CTX_get1_chain(again.get()));
    // Held by that chain, the untrusted certificates or the store, all of which outlive `again`.
    X509_STORE_CTX_set_current_cert(first, X509_STORE_CTX_get_current_cert(again.get()));
    X509_VERIFY_PARAM_move_peername(X509_STORE_CTX_get0_param(first), X509_STORE_CTX_get0_param(again.get()));
    return ok;
}

// The context's verification: step 1 (its own store: the directory and the CA file), then step 2.
// Every failure is tried again, not only a missing issuer: a root in the directory can shadow
// another of the same name in the bundle (a renewed root, or one appended to the bundle alone),
// and fails with a signature or validity error rather than a missing one.
int verify_directory_then_bundle(X509_STORE_CTX *ctx, void *arg) {
    ERR_set_mark();
    if (X509_verify_cert(ctx) > 0) return 1;
    X509_STORE *everything = static_cast<SystemTrust *>(arg)->everything();
    if (everything == nullptr || !verify_again(ctx, everything)) return 0;
    ERR_pop_to_mark();  // what step 1 queued must not read as the handshake's error
    return 1;
}

}  // namespace

std::string ca_configuration_key(const std::string &ca_file) {
    std::string key =
        ca_file + "\n" + variable(X509_get_default_cert_dir_env()) + "\n" + variable(X509_get_default_cert_file_env());
    struct stat st {};
    if (!ca_file.empty() && ::stat(ca_file.c_str(), &st) == 0)
        key += "\n" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n" +
               std::to_string(st.st_size) + "\n" + std::to_string(st.st_ino);
    return key;
}

std::shared_ptr<SystemTrust> trust_system_authorities(SSL_CTX *ctx, const std::string &ca_file) {
    X509_LOOKUP *dir = X509_STORE_add_lookup(SSL_CTX_get_cert_store(ctx), X509_LOOKUP_hash_dir());
    if (dir == nullptr) throw std::runtime_error("cannot add the system's certificate directory");
    // SSL_CERT_DIR or OpenSSL's default. As for set_default_verify_paths, a directory that cannot
    // be used (SSL_CERT_DIR="") only trusts nothing.
    X509_LOOKUP_add_dir(dir, nullptr, X509_FILETYPE_DEFAULT);
    ERR_clear_error();
    auto trust = std::make_shared<SystemTrust>(ca_file);
    SSL_CTX_set_cert_verify_callback(ctx, verify_directory_then_bundle, trust.get());
    return trust;
}

int system_bundle_reads() {
    return bundle_reads.load();
}

}  // namespace spnet
