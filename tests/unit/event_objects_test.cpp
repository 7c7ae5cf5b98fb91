// app_info and device_info: every member of Pinterest's schema (release 5.23) mapped from a row,
// typed and limited as the schema says, and rows that break a limit rejected naming the rule.
#include "one_row.hpp"

using test_support::OneRow;

TEST(EventObjects, EveryAppInfoAndDeviceInfoMemberIsSentTypedUnderItsObject) {
    OneRow row;
    row.text("app_info.app_id", "1234567890")
        .text("app_info.app_name", "Shop")
        .text("app_info.app_package_name", "com.example.shop")
        .text("app_info.app_store", "Google Play Store")
        .text("app_info.app_version", "7.1.0")
        .text("app_info.install_time", "2026-01-02T03:04:05Z")
        .text("app_info.user_agent", "Shop/7.1 (Android 16)")
        .text("app_info.window_height", "2400")
        .integer("app_info.window_width", 1080)
        .integer("device_info.battery_level", 87)
        .text("device_info.brand", "Google")
        .text("device_info.carrier", "T-Mobile")
        .integer("device_info.cpu_cores", 8)
        .integer("device_info.external_storage_free_space", 12)
        .integer("device_info.external_storage_size", 64)
        .text("device_info.form_factor", "Cellphone")
        .text("device_info.kernel_version", "6.6")
        .text("device_info.languages", "[\"en\", \"de\"]")
        .text("device_info.locale", "en-US")
        .text("device_info.model", "Pixel 10")
        .text("device_info.network_type", "CELLULAR_5G")
        .text("device_info.os_family", "android")
        .text("device_info.os_name", "16")
        .text("device_info.os_release_name", "Baklava")
        .text("device_info.os_version", "16.1")
        .integer("device_info.screen_density", 420)
        .integer("device_info.screen_height", 2400)
        .integer("device_info.screen_width", 1080)
        .integer("device_info.storage_free_space", 40)
        .integer("device_info.storage_size", 256)
        .text("device_info.timezone", "Europe/Berlin")
        .text("device_info.timezone_abbr", "CET")
        .text("device_info.type", "phone")
        .text("app_version", "7.1.0-legacy");  // the older top-level field still works beside them
    const boost::json::object event = row.encode_ok();
    const boost::json::object expected_app = boost::json::parse(R"J({
        "app_id": "1234567890", "app_name": "Shop", "app_package_name": "com.example.shop",
        "app_store": "Google Play Store", "app_version": "7.1.0", "install_time": 1767323045,
        "user_agent": "Shop/7.1 (Android 16)", "window_height": 2400, "window_width": 1080})J")
                                                 .as_object();
    const boost::json::object expected_device = boost::json::parse(R"({
        "battery_level": 87, "brand": "Google", "carrier": "T-Mobile", "cpu_cores": 8,
        "external_storage_free_space": 12, "external_storage_size": 64, "form_factor": "cellphone",
        "kernel_version": "6.6", "languages": ["en", "de"], "locale": "en-US", "model": "Pixel 10",
        "network_type": "cellular_5g", "os_family": "android", "os_name": "16",
        "os_release_name": "Baklava", "os_version": "16.1", "screen_density": 420,
        "screen_height": 2400, "screen_width": 1080, "storage_free_space": 40, "storage_size": 256,
        "timezone": "Europe/Berlin", "timezone_abbr": "CET", "type": "phone"})")
                                                    .as_object();
    EXPECT_EQ(event.at("app_info").as_object(), expected_app);
    EXPECT_EQ(event.at("device_info").as_object(), expected_device);
    EXPECT_EQ(event.at("app_version").as_string(), "7.1.0-legacy");
}

TEST(EventObjects, AnObjectWithNothingInItIsLeftOut) {
    OneRow row;
    row.text("app_info.app_name", "  ").text("device_info.languages", "[]");
    const boost::json::object event = row.encode_ok();
    EXPECT_FALSE(event.contains("app_info"));
    EXPECT_FALSE(event.contains("device_info"));
    OneRow partly;
    partly.text("app_info.app_name", "").text("app_info.app_version", "2");
    EXPECT_EQ(partly.encode_ok().at("app_info").as_object(), boost::json::parse(R"({"app_version":"2"})").as_object());
}

TEST(EventObjects, ValuesOutsideTheSchemaRejectTheRowNamingTheRule) {
    EXPECT_EQ(OneRow().text("device_info.timezone_abbr", "CESTXY").rejection(),
              "device_info.timezone_abbr: is longer than 5 characters (Pinterest's limit)");
    // Characters, not bytes: five two-byte letters fit.
    EXPECT_EQ(OneRow().text("device_info.timezone_abbr", "ÄÖÜäö").rejection(), "");
    EXPECT_EQ(OneRow().integer("device_info.battery_level", 101).rejection(),
              "device_info.battery_level: must be between 0 and 100");
    EXPECT_EQ(OneRow().integer("app_info.window_width", -1).rejection(),
              "app_info.window_width: must be between 0 and 30720");
    EXPECT_EQ(OneRow().text("device_info.os_family", "haiku").rejection(),
              "device_info.os_family: must be one of ios, android, macos, windows, linux, bsd, other");
    EXPECT_EQ(OneRow().text("app_info.install_time", "1969-12-31T23:59:59Z").rejection(),
              "app_info.install_time: the time is before 1970");
    std::string langs = "[";
    for (int i = 0; i < 101; ++i) langs += (i ? ",\"en\"" : "\"en\"");
    EXPECT_EQ(OneRow().text("device_info.languages", langs + "]").rejection(),
              "device_info.languages: has 101 values; Pinterest takes at most 100");
    EXPECT_NE(OneRow().text("device_info.cpu_cores", "eight").rejection(), "");
}
