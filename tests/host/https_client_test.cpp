// The HTTPS client's TLS contexts are shared per CA configuration: many plugin instances (and the
// host's token endpoint) in one process load the trust store once (docs/performance.md, "Many
// tenants"), and a CA file that changed on disk gets a context of its own.
#include "net/https_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;

std::string system_bundle() {
    std::ifstream in("/etc/ssl/certs/ca-certificates.crt");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The first certificate of the system bundle alone.
std::string one_certificate(const std::string &bundle) {
    const std::string end = "-----END CERTIFICATE-----";
    return bundle.substr(0, bundle.find(end) + end.size()) + "\n";
}

spnet::ClientOptions options(const std::string &ca_file) {
    spnet::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = "9";
    o.ca_file = ca_file;
    return o;
}

TEST(HttpsClient, ClientsOfOneCaConfigurationAndThreadShareTheirTlsContext) {
    const std::string bundle = system_bundle();
    ASSERT_FALSE(bundle.empty()) << "no system CA bundle";
    const fs::path dir = fs::temp_directory_path() / ("https-client-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string a = (dir / "a.pem").string(), b = (dir / "b.pem").string();
    std::ofstream(a) << one_certificate(bundle);
    std::ofstream(b) << one_certificate(bundle) << one_certificate(bundle);

    boost::asio::io_context ioc;
    spnet::HttpsClient first(ioc, options(a), 1), second(ioc, options(a), 2);
    EXPECT_EQ(first.tls_context(), second.tls_context());
    spnet::HttpsClient other(ioc, options(b), 1), none(ioc, options(""), 1);
    EXPECT_NE(other.tls_context(), first.tls_context());
    EXPECT_NE(none.tls_context(), first.tls_context());
    // Another io_context (another I/O thread): its own context, so that no context handshakes on
    // two threads at once.
    boost::asio::io_context other_thread;
    spnet::HttpsClient elsewhere(other_thread, options(a), 1);
    EXPECT_NE(elsewhere.tls_context(), first.tls_context());

    // The same path with other contents: a client made now trusts what the file says now.
    std::ofstream(a) << bundle;
    spnet::HttpsClient changed(ioc, options(a), 1);
    EXPECT_NE(changed.tls_context(), first.tls_context());
    fs::remove_all(dir);
}

TEST(HttpsClient, AnUnreadableCaFileIsRefusedByName) {
    boost::asio::io_context ioc;
    try {
        spnet::HttpsClient c(ioc, options("/nonexistent/ca.pem"), 1);
        FAIL() << "a missing CA file was accepted";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("cannot load ca_file"), std::string::npos) << e.what();
    }
}

}  // namespace
