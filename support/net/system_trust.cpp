#include "net/system_trust.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

namespace spnet {

namespace {

std::atomic<int> bundle_reads{0};

// The lookup's own data: the bundle's path, and whether it was read into the store yet.
struct LazyBundle {
    std::string path;
    std::once_flag read;
};

LazyBundle *bundle_of(X509_LOOKUP *lookup) {
    return static_cast<LazyBundle *>(X509_LOOKUP_get_method_data(lookup));
}

// Asked only when the store holds no certificate (or CRL) of that subject and the hashed directory
// had none: reads the whole bundle into the store, once, then answers from the store.
int by_subject(X509_LOOKUP *lookup, X509_LOOKUP_TYPE type, const X509_NAME *name, X509_OBJECT *ret) {
    LazyBundle *bundle = bundle_of(lookup);
    if (bundle == nullptr) return 0;
    std::call_once(bundle->read, [&] {
        // A missing or unreadable bundle trusts nothing more, as set_default_verify_paths does.
        if (X509_load_cert_crl_file(lookup, bundle->path.c_str(), X509_FILETYPE_PEM) > 0) ++bundle_reads;
        ERR_clear_error();
    });
    X509_STORE *store = X509_LOOKUP_get_store(lookup);
    if (!X509_STORE_lock(store)) return 0;
    int found = 0;
    if (X509_OBJECT *o = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store), type, name)) {
        // The caller takes its own reference on what `ret` points to; the store keeps it alive.
        if (X509 *cert = X509_OBJECT_get0_X509(o); cert && X509_OBJECT_set1_X509(ret, cert) == 1) {
            X509_free(cert);
            found = 1;
        } else if (X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o); crl && X509_OBJECT_set1_X509_CRL(ret, crl) == 1) {
            X509_CRL_free(crl);
            found = 1;
        }
    }
    X509_STORE_unlock(store);
    return found;
}

void free_bundle(X509_LOOKUP *lookup) {
    delete bundle_of(lookup);
    X509_LOOKUP_set_method_data(lookup, nullptr);
}

X509_LOOKUP_METHOD *lazy_bundle_method() {
    // Freed when the library holding it is unloaded. By then no store uses it: the contexts that
    // hold one belong to clients, which their instances' close ended.
    static const std::unique_ptr<X509_LOOKUP_METHOD, void (*)(X509_LOOKUP_METHOD *)> method(
        [] {
            X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("spnet lazy system bundle");
            if (m) {
                X509_LOOKUP_meth_set_get_by_subject(m, by_subject);
                X509_LOOKUP_meth_set_free(m, free_bundle);
            }
            return m;
        }(),
        X509_LOOKUP_meth_free);
    return method.get();
}

}  // namespace

bool trust_system_authorities(SSL_CTX *ctx) {
    X509_LOOKUP_METHOD *lazy = lazy_bundle_method();  // before any store that will use it
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    // The hashed directory first: SSL_CERT_DIR or OpenSSL's default, read a certificate at a time.
    // As with set_default_verify_paths, a directory that cannot be used (SSL_CERT_DIR="") only
    // trusts nothing.
    X509_LOOKUP *dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (dir == nullptr) return false;
    X509_LOOKUP_add_dir(dir, nullptr, X509_FILETYPE_DEFAULT);
    ERR_clear_error();
    // Then the bundle: SSL_CERT_FILE when set (even empty: it names no file then, as for OpenSSL;
    // ignored in a setuid process, as OpenSSL ignores it) or OpenSSL's default, read whole when
    // first needed.
    X509_LOOKUP *file = lazy ? X509_STORE_add_lookup(store, lazy) : nullptr;
    if (file == nullptr) return false;
    const char *env = secure_getenv(X509_get_default_cert_file_env());
    auto *bundle = new LazyBundle;
    bundle->path = env ? env : X509_get_default_cert_file();
    X509_LOOKUP_set_method_data(file, bundle);
    return true;
}

int system_bundle_reads() {
    return bundle_reads.load();
}

}  // namespace spnet
