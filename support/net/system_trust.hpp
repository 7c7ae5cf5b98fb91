// The system's trusted certificate authorities for a client TLS context, read as they are needed.
//
// SSL_CTX_set_default_verify_paths parses the whole system bundle (about 140 certificates on
// Debian) when the context is made: 30 ms of CPU, most of what a small sync costs. The same
// authorities are also in the system's hashed directory, where OpenSSL reads only the one a chain
// needs. This trusts exactly what set_default_verify_paths trusts, the default directory and the
// default file (or SSL_CERT_DIR and SSL_CERT_FILE when set, as OpenSSL honours them), with the
// directory asked first and the file read, whole and once, only when the directory lacks an issuer
// (a system without hashed links, or a certificate appended to the bundle alone).
#pragma once

#include <openssl/ssl.h>

namespace spnet {

// Adds the system's authorities to `ctx`'s store; false (with OpenSSL's error queue set) when a
// lookup cannot be added. Threading: any number of handshakes may share `ctx` afterwards; the
// file is read once, by whichever first needs it.
bool trust_system_authorities(SSL_CTX *ctx);

// How many times the bundle file was read into a store by trust_system_authorities, since the
// process started (for tests).
int system_bundle_reads();

}  // namespace spnet
