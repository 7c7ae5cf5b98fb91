// The authorities a TLS client context trusts: the system's, where OpenSSL's default paths name
// them (the hashed directory, SSL_CERT_DIR, and the bundle file, SSL_CERT_FILE), and an optional
// CA file. That is what SSL_CTX_set_default_verify_paths and a CA file trust, without parsing the
// whole bundle (about 140 authorities, 30 ms of CPU and a megabyte) for every context:
//   1. a server's chain is verified against the hashed directory, which reads one file per issuer
//      asked for, and the CA file;
//   2. only if that fails is the bundle read, once per context, and the chain verified again
//      against the directory, the bundle and the CA file together, with the same parameters (host
//      name, purpose, depth, time).
// Once per context, not per process: a context's connections handshake on one thread, and its
// stores' certificates must stay on that thread. OpenSSL 3.0 caches a certificate's extensions on
// first use, and with one store shared by two threads' handshakes TSan reported that cache being
// written while the other thread compared key identifiers.
// A chain is accepted when either verification accepts it, so every anchor is one the directory,
// the bundle or the CA file holds, named when the context is made. One difference remains from
// set_default_verify_paths, which asks the bundle before the directory: where the two disagree
// about a root of one name (two different roots, or a bundle entry marked as rejected for server
// use), a chain the directory's root vouches for is accepted here and refused there. Distributions
// write both from one list (Debian's update-ca-certificates), where they cannot disagree.
// A real server's chain (leaf, intermediate) verifies at step 1 on a system with hashed links,
// such as Debian's /etc/ssl/certs. Any failure at step 1 (a wrong host name too) reads the
// bundle once for the context: about 30 ms.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace spnet {

class SystemTrust;

// Names a CA configuration: the CA file as it is on disk (path, modification time, size, inode) and
// where OpenSSL's default paths point (their variables, or the defaults). Two contexts with the
// same key trust the same.
std::string ca_configuration_key(const std::string &ca_file);

// Makes `ctx` trust as described above: adds the hashed directory to its store and installs the
// verification of steps 1 and 2. Call once the CA file, if any, is loaded into `ctx`'s store (by
// the caller, who reports its own error) and nothing else is: step 2's store starts from a copy of
// what it holds. Call before `ctx` is used, and use `ctx` for handshakes on one thread at a time.
// The result must outlive `ctx`. Throws std::runtime_error when OpenSSL cannot make or fill the
// stores.
[[nodiscard]] std::shared_ptr<SystemTrust> trust_system_authorities(SSL_CTX *ctx);

// How many times this process has read a system bundle (a step 2 store made); for tests.
int system_bundle_reads();

}  // namespace spnet
