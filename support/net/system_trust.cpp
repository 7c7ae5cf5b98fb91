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

// Where one of OpenSSL's default paths points now: its environment variable as OpenSSL reads it
// (ignored in a setuid process), or its default.
std::string default_path(const char *variable, const char *otherwise) {
    const char *value = secure_getenv(variable);
    return value ? value : otherwise;
}

std::string default_bundle() {
    return default_path(X509_get_default_cert_file_env(), X509_get_default_cert_file());
}

std::string default_directory() {
    return default_path(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
}

}  // namespace

// Step 2's store of one context, and where its parts are. Everything it trusts is named when the
// context is made, as set_default_verify_paths and the CA file would name it then: the paths
// resolved, the CA file's certificates taken from the context's store; only the bundle and the
// directory are read later, when first needed.
class SystemTrust {
public:
    // Holds what `ctx`'s store holds now: the CA file's certificates and CRLs, as the caller
    // loaded them (one read of the file serves both stores).
    explicit SystemTrust(SSL_CTX *ctx)
        : bundle_(default_bundle()), directory_(default_directory()), everything_(X509_STORE_new()) {
        if (everything_ == nullptr) throw std::runtime_error("cannot make a certificate store");
        STACK_OF(X509_OBJECT) *loaded = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
        for (int i = 0; i < sk_X509_OBJECT_num(loaded); ++i) {
            const X509_OBJECT *o = sk_X509_OBJECT_value(loaded, i);
            const bool added = X509_OBJECT_get_type(o) == X509_LU_X509
                                   ? X509_STORE_add_cert(everything_, X509_OBJECT_get0_X509(o)) == 1
                                   : X509_STORE_add_crl(everything_, X509_OBJECT_get0_X509_CRL(o)) == 1;
            if (!added) throw std::runtime_error("cannot copy the CA file's certificates");
        }
    }
    ~SystemTrust() { X509_STORE_free(everything_); }
    SystemTrust(const SystemTrust &) = delete;
    SystemTrust &operator=(const SystemTrust &) = delete;

    // The hashed directory, for the context's own store (step 1).
    const std::string &directory() const { return directory_; }

    // What set_default_verify_paths and the CA file trust: the bundle and the directory are added
    // on the first call. On the context's thread only.
    X509_STORE *everything() {
        if (!read_) {
            read_ = true;
            // Each part trusts nothing more when it is missing or unreadable, as for a context.
            // The bundle first, as set_default_verify_paths adds it.
            ERR_set_mark();
            X509_STORE_load_file(everything_, bundle_.c_str());
            X509_STORE_load_path(everything_, directory_.c_str());
            ERR_pop_to_mark();
            ++bundle_reads;
        }
        return everything_;
    }

private:
    std::string bundle_, directory_;
    X509_STORE *everything_;
    bool read_ = false;
};

namespace {

// Verifies `first`'s chain again against `store`, as the connection would have: the same leaf,
// the certificates the server sent, the parameters (host name or address, purpose, depth, time,
// flags, security level), the connection, its DANE records and the verify callback. Leaves the outcome, as the
// connection reads it, in `first`: the error and its depth, and the chain verified.
bool verify_again(X509_STORE_CTX *first, X509_STORE *store) {
    const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> again(X509_STORE_CTX_new(),
                                                                                X509_STORE_CTX_free);
    if (!again ||
        X509_STORE_CTX_init(again.get(), store, X509_STORE_CTX_get0_cert(first),
                            X509_STORE_CTX_get0_untrusted(first)) != 1 ||
        X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(again.get()), X509_STORE_CTX_get0_param(first)) != 1)
        return false;
    const int ssl_index = SSL_get_ex_data_X509_STORE_CTX_idx();
    auto *ssl = static_cast<SSL *>(X509_STORE_CTX_get_ex_data(first, ssl_index));
    X509_STORE_CTX_set_ex_data(again.get(), ssl_index, ssl);
    if (ssl != nullptr) X509_STORE_CTX_set0_dane(again.get(), SSL_get0_dane(ssl));  // TLSA records, if any
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
    if (X509_verify_cert(ctx) > 0 || verify_again(ctx, static_cast<SystemTrust *>(arg)->everything())) {
        ERR_pop_to_mark();  // what a failed step 1 queued must not read as the handshake's error
        return 1;
    }
    ERR_clear_last_mark();  // refused: what either step queued stays, as set_default_verify_paths' would
    return 0;
}

}  // namespace

std::string ca_configuration_key(const std::string &ca_file) {
    std::string key = ca_file + "\n" + default_directory() + "\n" + default_bundle();
    struct stat st {};
    if (!ca_file.empty() && ::stat(ca_file.c_str(), &st) == 0)
        key += "\n" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n" +
               std::to_string(st.st_size) + "\n" + std::to_string(st.st_ino);
    return key;
}

std::shared_ptr<SystemTrust> trust_system_authorities(SSL_CTX *ctx) {
    auto trust = std::make_shared<SystemTrust>(ctx);  // before the directory joins ctx's store
    X509_LOOKUP *dir = X509_STORE_add_lookup(SSL_CTX_get_cert_store(ctx), X509_LOOKUP_hash_dir());
    if (dir == nullptr) throw std::runtime_error("cannot add the system's certificate directory");
    // As for set_default_verify_paths, a directory that cannot be used (SSL_CERT_DIR="") only
    // trusts nothing.
    ERR_set_mark();
    X509_LOOKUP_add_dir(dir, trust->directory().c_str(), X509_FILETYPE_PEM);
    ERR_pop_to_mark();
    SSL_CTX_set_cert_verify_callback(ctx, verify_directory_then_bundle, trust.get());
    return trust;
}

int system_bundle_reads() {
    return bundle_reads.load();
}

}  // namespace spnet
