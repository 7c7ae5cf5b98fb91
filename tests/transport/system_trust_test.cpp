// The system's authorities (support/net/system_trust.hpp), as SSL_CERT_DIR and SSL_CERT_FILE name
// them for OpenSSL, are the only way these clients know the sandbox's CA (no ca_file). A chain is
// verified against the hashed directory first; the bundle is read, once per TLS context, only
// when that fails, and the chain verified again with the same host name and time. The sandboxes
// send a leaf and an intermediate CA, as public servers do, and every sandbox's CA has the same
// subject name, so another sandbox's CA is a root of the same name with another key.
#include "sandbox_process.hpp"

#include "net/https_client.hpp"
#include "net/system_trust.hpp"

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using spnet::HttpResponse;
using spnet::HttpsClient;
using spnet::NetError;

constexpr char kToken[] = "system-trust-test-token-5";

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
}

class SystemTrust : public ::testing::Test {
protected:
    void TearDown() override {
        unsetenv("SSL_CERT_DIR");
        unsetenv("SSL_CERT_FILE");
    }

    // A sandbox whose leaf an intermediate CA signed, and which sends both.
    static std::unique_ptr<sandbox_test::Sandbox> server(std::vector<std::string> args = {}) {
        args.emplace_back("--cert-intermediate");
        return std::make_unique<sandbox_test::Sandbox>(SANDBOX_EXE, kToken, std::move(args));
    }

    // The system's authorities from now on: a hashed directory holding `in_directory` (linked as
    // c_rehash links them, by subject hash) and a bundle holding `in_bundle`. Each call makes a
    // new pair, so a configuration already in use is not changed under it. `also_in_bundle`: more
    // certificates (PEM files) for the bundle.
    void system_trusts(const std::vector<const sandbox_test::Sandbox *> &in_directory,
                       const std::vector<const sandbox_test::Sandbox *> &in_bundle,
                       const std::vector<std::string> &also_in_bundle = {}) {
        const fs::path root = fs::path(own.dir()) / ("system-" + std::to_string(++configurations));
        fs::create_directories(root / "certs");
        for (const auto *s : in_directory) link_by_hash(s->ca_file(), root / "certs");
        std::string bundle;
        for (const std::string &pem : also_in_bundle) bundle += read_file(pem);
        for (const auto *s : in_bundle) bundle += read_file(s->ca_file());
        std::ofstream(root / "bundle.pem") << bundle;
        setenv("SSL_CERT_DIR", (root / "certs").c_str(), 1);
        setenv("SSL_CERT_FILE", (root / "bundle.pem").c_str(), 1);
    }

    static void link_by_hash(const std::string &pem, const fs::path &dir) {
        FILE *f = std::fopen(pem.c_str(), "r");
        ASSERT_NE(f, nullptr);
        X509 *ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        ASSERT_NE(ca, nullptr);
        const unsigned long hash = X509_subject_name_hash(ca);
        X509_free(ca);
        for (int n = 0;; ++n) {  // same subject, next suffix
            char name[24];
            std::snprintf(name, sizeof name, "%08lx.%d", hash, n);
            if (fs::exists(dir / name)) continue;
            fs::copy_file(pem, dir / name);
            return;
        }
    }

    // A client of `to` that trusts only the system's authorities, with `slots` connections, on
    // `ioc` (a TLS context per I/O context and configuration, made under the variables set now).
    static std::unique_ptr<HttpsClient> client_of(boost::asio::io_context &ioc, const sandbox_test::Sandbox &to,
                                                  const std::string &host, size_t slots = 1,
                                                  const std::string &ca_file = "") {
        const std::string rest = to.url().substr(to.url().find("://") + 3);
        spnet::ClientOptions o;
        o.ca_file = ca_file;
        o.host = host;
        o.port = rest.substr(rest.rfind(':') + 1);
        o.step_timeout = std::chrono::seconds(10);
        return std::make_unique<HttpsClient>(ioc, o, slots);
    }

    // One request on each of the client's slots at once (a connection, and a handshake, each);
    // runs `ioc` until all are answered.
    static std::vector<HttpResponse> ask_on_every_slot(boost::asio::io_context &ioc, HttpsClient &client) {
        std::vector<HttpResponse> got(client.slots());
        const std::string authorization = std::string("Bearer ") + kToken;  // viewed until answered
        HttpsClient::Request r;
        r.target = "/_sandbox/stats";
        r.authorization = authorization;
        for (size_t i = 0; i < got.size(); ++i)
            client.request(i, r, [&got, i](HttpResponse answer) { got[i] = std::move(answer); });
        ioc.restart();
        ioc.run();
        return got;
    }

    // A client on an I/O context of its own, so a TLS context of its own.
    struct Client {
        Client(const sandbox_test::Sandbox &to, const std::string &host) : client(client_of(ioc, to, host)) {}
        HttpResponse ask() { return ask_on_every_slot(ioc, *client).front(); }

        boost::asio::io_context ioc;
        std::unique_ptr<HttpsClient> client;
    };

    HttpResponse ask(const sandbox_test::Sandbox &to, const std::string &host = "127.0.0.1") {
        return Client(to, host).ask();
    }

    std::unique_ptr<sandbox_test::Sandbox> a = server();
    std::unique_ptr<sandbox_test::Sandbox> other = server();  // another CA of the same name
    sandbox_test::Sandbox &own = *a;
    int configurations = 0;
};

}  // namespace

TEST_F(SystemTrust, AServersChainWhoseRootIsInTheHashedDirectoryNeverReadsTheBundle) {
    system_trusts({a.get()}, {a.get(), other.get()});
    const int reads = spnet::system_bundle_reads();
    Client client(*a, "127.0.0.1");
    const HttpResponse got = client.ask();
    EXPECT_EQ(got.error, NetError::none) << got.error_detail;
    EXPECT_EQ(got.status, 200u);
    // The intermediate is no authority of the directory's; finding it missing there is not a reason
    // to read the bundle: it came with the leaf.
    EXPECT_EQ(spnet::system_bundle_reads(), reads);
    // The context holds the one authority the directory gave it, not the bundle's.
    auto *ctx = static_cast<SSL_CTX *>(const_cast<void *>(client.client->tls_context()));
    EXPECT_EQ(sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx))), 1);
}

TEST_F(SystemTrust, ARootOnlyInTheBundleIsReadOnceByAContextForAllItsConnections) {
    system_trusts({}, {a.get()});  // an empty directory: a system without hashed links
    const int reads = spnet::system_bundle_reads();
    boost::asio::io_context ioc;
    const auto client = client_of(ioc, *a, "127.0.0.1", 3);
    for (const HttpResponse &got : ask_on_every_slot(ioc, *client))
        EXPECT_EQ(got.error, NetError::none) << got.error_detail;
    EXPECT_EQ(client->connections_opened(), 3u);
    EXPECT_EQ(spnet::system_bundle_reads(), reads + 1);
}

// Two TLS contexts of one configuration, on two threads, as the plugin's I/O threads hold them:
// each reads the bundle into a store of its own, whose certificates no other thread touches.
TEST_F(SystemTrust, TwoThreadsContextsEachReadTheBundleForThemselves) {
    system_trusts({}, {a.get()});
    const int reads = spnet::system_bundle_reads();
    Client first(*a, "127.0.0.1"), second(*a, "localhost");
    HttpResponse got_first, got_second;
    std::thread other_thread([&] { got_second = second.ask(); });
    got_first = first.ask();
    other_thread.join();
    EXPECT_EQ(got_first.error, NetError::none) << got_first.error_detail;
    EXPECT_EQ(got_second.error, NetError::none) << got_second.error_detail;
    EXPECT_EQ(spnet::system_bundle_reads(), reads + 2);
}

TEST_F(SystemTrust, ARootOfTheSameNameInTheDirectoryDoesNotHideTheBundlesRoot) {
    system_trusts({other.get()}, {a.get()});
    const HttpResponse got = ask(*a);
    EXPECT_EQ(got.error, NetError::none) << got.error_detail;
}

// Where the directory and the bundle hold different roots of one name, the directory's vouches
// for its chains (set_default_verify_paths, asking the bundle first, would refuse them): the one
// difference net/system_trust.hpp declares.
TEST_F(SystemTrust, TheDirectorysRootVouchesForItsChainsWhateverTheBundleHoldsOfTheSameName) {
    system_trusts({a.get()}, {other.get()});
    const HttpResponse got = ask(*a);
    EXPECT_EQ(got.error, NetError::none) << got.error_detail;
}

// The CA file is read when the context is made, for both looks: a file changed since trusts a
// context made later, not this one (the context is one per CA file as it is on disk).
TEST_F(SystemTrust, TheCaFileIsTheOneTheContextWasMadeWith) {
    system_trusts({}, {});
    const fs::path ca = fs::path(own.dir()) / "changing-ca.pem";
    fs::copy_file(other->ca_file(), ca);
    boost::asio::io_context ioc;
    const auto client = client_of(ioc, *a, "127.0.0.1", 1, ca.string());
    fs::remove(ca);
    fs::copy_file(a->ca_file(), ca);  // now the right one, after the context was made
    const HttpResponse got = ask_on_every_slot(ioc, *client).front();
    EXPECT_EQ(got.error, NetError::tls_verify) << got.error_detail;
}

// So are the system's paths: variables changed after the context was made (even before its first
// handshake) move contexts made later, not this one.
TEST_F(SystemTrust, TheSystemsPathsAreTheOnesTheContextWasMadeWith) {
    system_trusts({}, {a.get()});
    boost::asio::io_context ioc;
    const auto client = client_of(ioc, *a, "127.0.0.1");
    system_trusts({}, {other.get()});
    const HttpResponse got = ask_on_every_slot(ioc, *client).front();
    EXPECT_EQ(got.error, NetError::none) << got.error_detail;
}

TEST_F(SystemTrust, AChainNoAuthorityVouchesForIsRefusedAfterBothLooks) {
    system_trusts({other.get()}, {other.get()});
    const int reads = spnet::system_bundle_reads();
    const HttpResponse got = ask(*a);
    EXPECT_EQ(got.error, NetError::tls_verify);
    EXPECT_NE(got.error_detail.find("unable to get local issuer certificate"), std::string::npos) << got.error_detail;
    EXPECT_EQ(spnet::system_bundle_reads(), reads + 1);
}

TEST_F(SystemTrust, AnotherBundleIsAnotherConfiguration) {
    boost::asio::io_context ioc;  // one I/O context: only the configuration tells the contexts apart
    system_trusts({}, {a.get()});
    const auto trusting = client_of(ioc, *a, "127.0.0.1");
    EXPECT_EQ(ask_on_every_slot(ioc, *trusting).front().error, NetError::none);
    // While the first configuration's context lives, a bundle without the root trusts nothing.
    system_trusts({}, {other.get()});
    const auto distrusting = client_of(ioc, *a, "127.0.0.1");
    const HttpResponse got = ask_on_every_slot(ioc, *distrusting).front();
    EXPECT_EQ(got.error, NetError::tls_verify) << got.error_detail;
}

// The second look checks what the first does: a chain the bundle's root vouches for is still
// refused for another host name or address, or once expired, and says so.
TEST_F(SystemTrust, TheBundlesLookChecksTheHostNameAndTheTimeAsTheDirectorysDoes) {
    const auto named_other = server({"--cert-host", "other.example"});
    const auto expired = server({"--cert-expired"});
    system_trusts({}, {named_other.get(), expired.get()});
    const HttpResponse wrong_name = ask(*named_other, "localhost");
    EXPECT_EQ(wrong_name.error, NetError::tls_verify);
    EXPECT_NE(wrong_name.error_detail.find("hostname mismatch"), std::string::npos) << wrong_name.error_detail;
    const HttpResponse wrong_address = ask(*named_other, "127.0.0.1");
    EXPECT_EQ(wrong_address.error, NetError::tls_verify);
    EXPECT_NE(wrong_address.error_detail.find("IP address mismatch"), std::string::npos) << wrong_address.error_detail;
    const HttpResponse too_old = ask(*expired);
    EXPECT_EQ(too_old.error, NetError::tls_verify);
    EXPECT_NE(too_old.error_detail.find("certificate has expired"), std::string::npos) << too_old.error_detail;
}

// A server that withholds its intermediate, whose root only the CA file holds: the directory's look
// (the CA file and the directory) lacks the intermediate and the bundle holds no root for it, so
// only the bundle's look with the CA file's authorities in it reaches the root.
TEST_F(SystemTrust, TheBundlesLookAlsoHoldsTheCaFilesAuthorities) {
    const std::string intermediate = (fs::path(own.dir()) / "withheld-intermediate.pem").string();
    const auto withholding = server({"--cert-intermediate-out", intermediate});
    auto ask_with = [&](const std::string &ca_file) {
        boost::asio::io_context ioc;
        return ask_on_every_slot(ioc, *client_of(ioc, *withholding, "127.0.0.1", 1, ca_file)).front();
    };
    // The server really sends the leaf alone: its root is not enough without the intermediate ...
    system_trusts({}, {});
    const HttpResponse no_intermediate = ask_with(withholding->ca_file());
    EXPECT_EQ(no_intermediate.error, NetError::tls_verify);
    EXPECT_NE(no_intermediate.error_detail.find("unable to get local issuer certificate"), std::string::npos)
        << no_intermediate.error_detail;
    // ... and the bundle's intermediate is no authority without a root.
    system_trusts({}, {}, {intermediate});
    const HttpResponse no_root = ask_with("");
    EXPECT_EQ(no_root.error, NetError::tls_verify);
    EXPECT_NE(no_root.error_detail.find("unable to get issuer certificate"), std::string::npos) << no_root.error_detail;

    system_trusts({}, {}, {intermediate});
    const int reads = spnet::system_bundle_reads();
    const HttpResponse got = ask_with(withholding->ca_file());
    EXPECT_EQ(got.error, NetError::none) << got.error_detail;
    EXPECT_EQ(got.status, 200u);
    EXPECT_EQ(spnet::system_bundle_reads(), reads + 1);
}
