// pinterest-sandbox: certificate generation with OpenSSL 3. See cert.hpp.
#include "cert.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace sandbox {
namespace {

struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(BIGNUM* p) const { BN_free(p); }
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("certificate generation failed: ") + what);
}

Key make_key() {
    Key k(EVP_EC_gen("P-256"));
    check(k != nullptr, "EC P-256 key");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    check(ext && X509_add_ext(cert, ext.get(), -1) == 1, "extension");
}

// Validity in seconds relative to now.
Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, long not_before, long not_after) {
    Cert c(X509_new());
    check(c != nullptr, "X509_new");
    check(X509_set_version(c.get(), 2) == 1, "version");

    std::unique_ptr<BIGNUM, Free> serial(BN_new());
    check(serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "serial");
    check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get())) != nullptr, "serial");

    check(X509_gmtime_adj(X509_getm_notBefore(c.get()), not_before) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(c.get()), not_after) != nullptr, "notAfter");
    check(X509_set_pubkey(c.get(), key) == 1, "pubkey");

    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("pinterest-sandbox"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509* self_or_issuer = issuer ? issuer : c.get();
    check(X509_set_issuer_name(c.get(), X509_get_subject_name(self_or_issuer)) == 1, "issuer");

    add_ext(c.get(), self_or_issuer, NID_subject_key_identifier, "hash");
    add_ext(c.get(), self_or_issuer, NID_authority_key_identifier, "keyid:always");
    return c;
}

void sign(X509* c, EVP_PKEY* key) { check(X509_sign(c, key, EVP_sha256()) > 0, "sign"); }

std::string pem_of(X509* c) {
    std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_X509(bio.get(), c) == 1, "PEM certificate");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* k) {
    std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM key");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

bool is_ip(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Certificates make_certificates(const std::string& host, bool expired, bool intermediate) {
    constexpr long hour = 3600, day = 86400;

    Key ca_key = make_key();
    Cert ca = make_cert(ca_key.get(), "pinterest-sandbox CA", nullptr, -hour, 30 * day);
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    sign(ca.get(), ca_key.get());

    // The leaf's issuer: the root itself, or an intermediate CA the root signs.
    Key mid_key = intermediate ? make_key() : nullptr;
    Cert mid = intermediate ? make_cert(mid_key.get(), "pinterest-sandbox intermediate CA", ca.get(), -hour, 30 * day)
                            : nullptr;
    if (mid) {
        add_ext(mid.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(mid.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
        sign(mid.get(), ca_key.get());
    }
    X509* issuer = mid ? mid.get() : ca.get();
    EVP_PKEY* issuer_key = mid ? mid_key.get() : ca_key.get();

    Key leaf_key = make_key();
    const std::string cn = host.empty() ? "localhost" : host;
    Cert leaf = expired ? make_cert(leaf_key.get(), cn.c_str(), issuer, -2 * day, -day)
                        : make_cert(leaf_key.get(), cn.c_str(), issuer, -hour, 30 * day);
    const std::string san = host.empty() ? "DNS:localhost,IP:127.0.0.1" : (is_ip(host) ? "IP:" : "DNS:") + host;
    add_ext(leaf.get(), issuer, NID_subject_alt_name, san.c_str());
    add_ext(leaf.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(leaf.get(), issuer, NID_key_usage, "critical,digitalSignature");
    add_ext(leaf.get(), issuer, NID_ext_key_usage, "serverAuth");
    sign(leaf.get(), issuer_key);

    Certificates out;
    out.ca_pem = pem_of(ca.get());
    out.leaf_pem = pem_of(leaf.get());
    out.chain_pem = out.leaf_pem + pem_of(issuer);
    out.leaf_key_pem = pem_of(leaf_key.get());
    if (mid) out.intermediate_pem = pem_of(mid.get());
    return out;
}

}  // namespace sandbox
