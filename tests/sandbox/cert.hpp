// pinterest-sandbox: a throwaway PKI made in memory at start: an EC P-256 CA and a leaf signed
// by it. Clients trust the CA (written with --ca-out), so verification stays on in tests.
#pragma once

#include <string>

namespace sandbox {

struct Certificates {
    std::string ca_pem;         // the CA certificate, for clients to trust
    std::string chain_pem;      // leaf certificate followed by the CA certificate
    std::string leaf_key_pem;   // the leaf's private key (never leaves the process)
};

// `host` empty: the leaf's SAN is DNS:localhost and IP:127.0.0.1; otherwise only `host`
// (as IP: when it is an address). `expired`: the leaf's validity ended yesterday.
// Throws std::runtime_error when OpenSSL fails.
Certificates make_certificates(const std::string& host, bool expired);

}  // namespace sandbox
