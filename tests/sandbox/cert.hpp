// pinterest-sandbox: a throwaway PKI made in memory at start: an EC P-256 CA and a leaf signed
// by it, or (with an intermediate) by an intermediate CA the root signed, as public servers are.
// Clients trust the root (written with --ca-out), so verification stays on in tests.
#pragma once

#include <string>

namespace sandbox {

struct Certificates {
    std::string ca_pem;         // the root CA certificate, for clients to trust
    std::string chain_pem;      // what the server sends: the leaf, then its issuer (the root, or
                                // the intermediate without the root, as public servers send it)
    std::string leaf_key_pem;   // the leaf's private key (never leaves the process)
    std::string leaf_pem;       // the leaf alone, for a server that withholds its intermediate
    std::string intermediate_pem;  // the intermediate CA ("" without one)
};

// `host` empty: the leaf's SAN is DNS:localhost and IP:127.0.0.1; otherwise only `host`
// (as IP: when it is an address). `expired`: the leaf's validity ended yesterday. `intermediate`:
// the root signs an intermediate CA, which signs the leaf. Every root has the same subject, so
// two sandboxes' roots differ only in their keys (and key identifiers).
// Throws std::runtime_error when OpenSSL fails.
Certificates make_certificates(const std::string& host, bool expired, bool intermediate);

}  // namespace sandbox
