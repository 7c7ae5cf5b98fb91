// End to end: the synchost binary with the Pinterest plugin against pinterest-sandbox over TLS,
// reading real SQLite files: first and second runs, new rows, SIGKILL mid-sync and restart,
// rejected rows in status, audience add, refused modes, dry runs.
#include "workspace.hpp"

using namespace e2e;


TEST(SyncE2E, FirstRunSendsAllValidRowsSecondRunSendsNoneNewRowsGoNext) {
    Workspace w;
    w.add_orders(1, 2500);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);

    CommandResult r1 = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r1.exit_code, 1) << r1.err;  // success with rejected rows
    auto s1 = summary(r1);
    EXPECT_EQ(s1.at("rows_read").as_int64(), 2500);
    EXPECT_EQ(s1.at("delivered").as_int64(), 2450);
    EXPECT_EQ(s1.at("rejected").as_int64(), 50);
    EXPECT_EQ(w.stat("distinct_event_ids"), 2450);

    CommandResult r2 = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r2.exit_code, 0) << r2.err;  // nothing new: rejected rows are not retried unchanged
    EXPECT_EQ(summary(r2).at("sent").as_int64(), 0);
    // SQLite leaves the delivered keys out itself (the state attached beside the model): only the
    // rejected rows are read, and skipped as unchanged.
    EXPECT_EQ(summary(r2).at("rows_read").as_int64(), 50);
    EXPECT_EQ(summary(r2).at("skipped").as_int64(), 50);
    EXPECT_EQ(w.stat("events_received"), 2450);

    w.add_orders(2501, 2600);
    CommandResult r3 = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(r3).at("sent").as_int64(), 100);
    EXPECT_EQ(w.stat("distinct_event_ids"), 2450 + 98);
    EXPECT_EQ(w.stat("duplicate_events"), 0);

    // A fixed rejected row is sent again because its content changed.
    w.sql("UPDATE orders SET email = 'fixed@shop.example' WHERE order_id = 'o50';");
    CommandResult r4 = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(r4).at("sent").as_int64(), 1);
    EXPECT_EQ(summary(r4).at("delivered").as_int64(), 1);
    // ... and moves from the rejected rows to the delivered ones in the state.
    auto st = json::parse(w.synchost({"status", "orders.json", "--json"}).out);
    EXPECT_EQ(st.at("delivered").as_int64(), 2450 + 98 + 1);
    EXPECT_EQ(st.at("rejected").as_int64(), 50 + 2 - 1);
    CommandResult r5 = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(r5).at("sent").as_int64(), 0);
}

// A state written before delivered keys had their own table keeps every delivered row in `rows`:
// they are still skipped, counted and forgotten by --full-resync.
TEST(SyncE2E, DeliveredRowsOfAnOlderStateLayoutAreStillKnown) {
    Workspace w;
    w.add_orders(1, 300);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    ASSERT_EQ(summary(w.synchost({"sync", "orders.json", "--json"})).at("delivered").as_int64(), 294);
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open(w.state_file("orders").c_str(), &db), SQLITE_OK);
    char *err = nullptr;
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO rows(pk, state, run_id, updated_at, seq) "
                           "SELECT pk, 1, seq / 1000000000, 0, seq FROM delivered; DELETE FROM delivered;",
                           nullptr, nullptr, &err),
              SQLITE_OK)
        << (err ? err : "");
    sqlite3_close(db);
    auto st = json::parse(w.synchost({"status", "orders.json", "--json"}).out);
    EXPECT_EQ(st.at("delivered").as_int64(), 294);
    CommandResult again = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(again).at("sent").as_int64(), 0) << again.err;
    EXPECT_EQ(summary(again).at("rows_read").as_int64(), 6) << "the 294 delivered rows are left out by SQLite";
    EXPECT_EQ(summary(again).at("skipped").as_int64(), 6);
    CommandResult full = w.synchost({"sync", "orders.json", "--json", "--full-resync", "--yes"});
    EXPECT_EQ(summary(full).at("sent").as_int64(), 300);
    st = json::parse(w.synchost({"status", "orders.json", "--json"}).out);
    EXPECT_EQ(st.at("delivered").as_int64(), 294);
}

TEST(SyncE2E, DuplicateAndNullKeysAreRowErrorsNotCrashes) {
    Workspace w;
    w.add_orders(1, 400);
    // A view repeats some orders far apart (beyond the batches in flight) and adds a NULL key.
    w.sql("CREATE VIEW dup AS SELECT * FROM orders UNION ALL SELECT * FROM orders WHERE order_id IN ('o7', 'o8') "
          "UNION ALL SELECT NULL, 'checkout', created_at, email, total FROM orders WHERE order_id = 'o9';");
    w.write_sync("orders", R"("mode": "insert", "batch_size": 25)", "SELECT * FROM dup", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    auto s = summary(r);
    EXPECT_EQ(s.at("row_errors").as_int64(), 3);
    EXPECT_EQ(s.at("delivered").as_int64(), 392);
    EXPECT_EQ(w.stat("distinct_event_ids"), 392);
    CommandResult st = w.synchost({"status", "orders.json"});
    EXPECT_NE(st.out.find("duplicate primary key"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("is NULL"), std::string::npos) << st.out;
    // The second run sends nothing: every key, repeated or not, was delivered before.
    CommandResult r2 = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(r2).at("sent").as_int64(), 0);
    EXPECT_EQ(summary(r2).at("row_errors").as_int64(), 1);  // the NULL key
}

TEST(SyncE2E, KeysRepeatedFarApartAreCaughtAtTheCheckpoint) {
    Workspace w;
    w.add_orders(1, 1200);
    w.sql("CREATE VIEW dup AS SELECT * FROM (SELECT * FROM orders WHERE rowid <= 512) UNION ALL "
          "SELECT * FROM (SELECT * FROM orders WHERE order_id IN ('o1', 'o2', 'o3')) UNION ALL "
          "SELECT order_id, event_type, created_at, 'fixed@shop.example', total FROM orders WHERE order_id = 'o50' "
          "UNION ALL SELECT * FROM (SELECT * FROM orders WHERE rowid > 512);");
    // Batches of 128: the repeats arrive long after their first rows were checkpointed, in whole
    // 64-row insert statements.
    w.write_sync("orders", R"("mode": "insert", "batch_size": 128)", "SELECT * FROM dup", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    auto s = summary(r);
    // o1-o3 again, and o50 again: rejected first (invalid email), delivered the second time; the
    // first outcome of each stands.
    EXPECT_EQ(s.at("row_errors").as_int64(), 4);
    EXPECT_EQ(s.at("delivered").as_int64(), 1200 - 24);  // every 50th order has an invalid email
    EXPECT_EQ(w.stat("distinct_event_ids"), 1176 + 1);  // Pinterest did accept o50's repeat
    CommandResult st = w.synchost({"status", "orders.json", "--json"});
    EXPECT_EQ(json::parse(st.out).at("delivered").as_int64(), 1176);
    EXPECT_EQ(json::parse(st.out).at("rejected").as_int64(), 24);

    // A later run looks keys up in the state: a key this run already checkpointed (delivered rows
    // keep only their checkpoint's seq, which names the run) is a repeat and is not sent again,
    // while a key of the first run (o5) is left out by SQLite, both times, as delivered.
    w.add_orders(1201, 2400);
    w.sql("DROP VIEW dup; CREATE VIEW dup AS SELECT * FROM orders UNION ALL "
          "SELECT * FROM (SELECT * FROM orders WHERE order_id IN ('o1201', 'o1202', 'o1203', 'o5'));");
    CommandResult r2 = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r2.exit_code, 1) << r2.err;
    auto s2 = summary(r2);
    EXPECT_EQ(s2.at("row_errors").as_int64(), 3);
    EXPECT_EQ(s2.at("sent").as_int64(), 1200);
    EXPECT_EQ(s2.at("rows_read").as_int64(), 24 + 1200 + 3);  // the rejected, the new, the repeats
    EXPECT_EQ(s2.at("skipped").as_int64(), 24);
    EXPECT_EQ(w.stat("distinct_event_ids"), 1176 * 2 + 1);
}

TEST(SyncE2E, RejectedRowsAppearInStatusWithReasonsAndNoRawPii) {
    Workspace w;
    w.add_orders(1, 300);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    ASSERT_EQ(w.synchost({"sync", "orders.json", "--quiet"}).exit_code, 1);
    CommandResult st = w.synchost({"status", "orders.json", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto v = json::parse(st.out);
    EXPECT_EQ(v.at("delivered").as_int64(), 294);
    EXPECT_EQ(v.at("rejected").as_int64(), 6);
    const auto &reasons = v.at("top_rejection_reasons").as_array();
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(std::string(reasons[0].at("reason").as_string()).find("email"), std::string::npos);
    EXPECT_EQ(reasons[0].at("count").as_int64(), 6);
    EXPECT_EQ(reasons[0].at("example_keys").as_array().size(), 3u);
    CommandResult text = w.synchost({"status", "orders.json"});
    EXPECT_NE(text.out.find("most common rejection reasons"), std::string::npos);
    for (const auto *out : {&st.out, &text.out, &text.err}) {
        EXPECT_EQ(out->find("no-at-sign.example"), std::string::npos) << "raw value in status";
        EXPECT_EQ(out->find("Shop.example"), std::string::npos);
        EXPECT_EQ(out->find(kToken), std::string::npos);
    }
}

// Killed three times at known depths: each killed run's 5th, 12th or 19th request (counted over
// the runs) is held unanswered by the sandbox, and the kill lands while it is provably in flight.
// After the last run every row was delivered with one event id, and what was sent twice is
// exactly what the destination had kept but the state had not yet recorded at a kill.
TEST(SyncE2E, KilledMidSyncAndRestartedDeliversEveryRowOnce) {
    Workspace w({"--fault", "hang,on=5", "--fault", "hang,on=12", "--fault", "hang,on=19"});
    w.add_valid_orders(1, 6000);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 300)", "SELECT * FROM orders", kOrderMapping,
                 ", \"max_in_flight\": 1");
    int64_t unrecorded = 0;  // kept by the destination, not (yet) in the state, summed over the kills
    const int hung_request[] = {5, 12, 19};
    for (int kill = 1; kill <= 3; ++kill) {
        auto c = w.start_synchost({"sync", "orders.json", "--quiet"});
        auto held = [&](const json::value &s) {
            const json::value *hangs = s.at("faults_by_action").as_object().if_contains("hang");
            return hangs && hangs->to_number<int64_t>() == kill && s.at("in_flight").to_number<int64_t>() == 1;
        };
        ASSERT_TRUE(w.wait_for_sandbox(held)) << "kill " << kill << ": " << c->stderr_text();
        // One request at a time, 300 events each: every request before the hung one was answered.
        EXPECT_EQ(w.stat("events_received"), 300 * (hung_request[kill - 1] - kill)) << "kill " << kill;
        c->signal(SIGKILL);
        EXPECT_EQ(c->wait().exit_code, -1) << "kill " << kill << ": the run ended before the kill";
        const int64_t kept = w.stat("distinct_event_ids");
        const int64_t recorded = w.status("orders").at("delivered").as_int64();
        EXPECT_LE(recorded, kept) << "kill " << kill << ": the state claims rows the destination never got";
        unrecorded += kept - recorded;
    }
    CommandResult r = w.synchost({"sync", "orders.json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(w.stat("distinct_event_ids"), 6000);
    // Resent rows carry the same event ids (Pinterest deduplicates); only unrecorded ones went twice.
    EXPECT_EQ(w.stat("duplicate_events"), unrecorded);
    const json::value st = w.status("orders");
    EXPECT_EQ(st.at("delivered").as_int64(), 6000);
    EXPECT_EQ(st.at("pending").as_int64(), 0);
}

TEST(SyncE2E, AudienceAddSendsOnlyNewMembersAndRecordsDepartures) {
    Workspace w;
    w.sql("CREATE TABLE members(order_id INTEGER PRIMARY KEY, email TEXT, active INTEGER);");
    std::string s = "BEGIN;";
    for (int i = 1; i <= 200; ++i)
        s += "INSERT INTO members VALUES(" + std::to_string(i) + ", 'm" + std::to_string(i) + "@club.example', 1);";
    w.sql(s + "COMMIT;");
    w.write_sync("club", R"("audience": {"mode": "add", "event_name": "signup"})",
                 "SELECT order_id, email FROM members WHERE active = 1", R"({"email": "email"})");
    CommandResult r1 = w.synchost({"sync", "club.json", "--json"});
    ASSERT_EQ(r1.exit_code, 0) << r1.err;
    EXPECT_EQ(summary(r1).at("delivered").as_int64(), 200);

    // 20 leave, 10 join, 5 of the leavers come back.
    w.sql("UPDATE members SET active = 0 WHERE order_id <= 20;");
    s = "BEGIN;";
    for (int i = 201; i <= 210; ++i)
        s += "INSERT INTO members VALUES(" + std::to_string(i) + ", 'm" + std::to_string(i) + "@club.example', 1);";
    w.sql(s + "COMMIT;");
    CommandResult r2 = w.synchost({"sync", "club.json", "--json"});
    EXPECT_EQ(summary(r2).at("sent").as_int64(), 10);
    EXPECT_EQ(summary(r2).at("departed").as_int64(), 20);
    w.sql("UPDATE members SET active = 1 WHERE order_id <= 5;");
    CommandResult r3 = w.synchost({"sync", "club.json", "--json"});
    EXPECT_EQ(summary(r3).at("sent").as_int64(), 5);  // rejoined: new events, new ids
    EXPECT_EQ(w.stat("distinct_event_ids"), 215);
    CommandResult st = w.synchost({"status", "club.json", "--json"});
    EXPECT_EQ(json::parse(st.out).at("members_active").as_int64(), 195);
    EXPECT_EQ(json::parse(st.out).at("members_departed").as_int64(), 15);
}

TEST(SyncE2E, UnsupportedModesAreRefusedWithTheManifestsWords) {
    Workspace w;
    w.add_orders(1, 3);
    for (const char *mode : {"update", "upsert", "mirror"}) {
        w.write_sync("orders", std::string("\"mode\": \"") + mode + "\"", "SELECT * FROM orders", kOrderMapping);
        CommandResult r = w.synchost({"sync", "orders.json"});
        EXPECT_EQ(r.exit_code, 2) << mode;
        EXPECT_NE(r.err.find("pinterest_conversions supports sync mode insert only"), std::string::npos) << r.err;
    }
    for (const char *mode : {"remove", "mirror", "upsert"}) {
        w.write_sync("club", std::string("\"audience\": {\"mode\": \"") + mode + "\"}", "SELECT * FROM orders",
                     kOrderMapping);
        CommandResult r = w.synchost({"sync", "club.json"});
        EXPECT_EQ(r.exit_code, 2) << mode;
        EXPECT_NE(r.err.find("pinterest_conversions supports audience sync mode add only"), std::string::npos) << r.err;
    }
    EXPECT_EQ(w.stat("events_received"), 0);
}

TEST(SyncE2E, DefinitionErrorsNameTheKeyAndLine) {
    Workspace w;
    w.add_orders(1, 3);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders",
                 R"({"event_name": "event_type", "emial": "email"})");
    CommandResult r = w.synchost({"check", "orders.json"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("orders.json:9"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("did you mean \"email\""), std::string::npos) << r.out;

    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, ", \"ad_acount_id\": \"1\"");
    r = w.synchost({"sync", "orders.json"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("did you mean \"ad_account_id\""), std::string::npos) << r.err;

    std::ofstream(w.dir() + "/broken.json") << "{\n  \"name\": \"x\",\n  \"source\": {\n}";
    r = w.synchost({"sync", "broken.json"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("broken.json:4"), std::string::npos) << r.err;
}

TEST(SyncE2E, DryRunPrintsHashedBodiesAndSendsNothing) {
    Workspace w;
    w.add_orders(1, 20);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--dry-run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto body = json::parse(r.out.substr(0, r.out.find('\n')));
    EXPECT_EQ(body.at("data").as_array().size(), 20u);
    EXPECT_EQ(r.out.find("Shop.example"), std::string::npos) << "raw email in a dry-run body";
    EXPECT_EQ(w.stat("events_received"), 0);
    // And the state did not move: a real run still sends everything.
    CommandResult real = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(real).at("sent").as_int64(), 20);
}

// A model with app and device columns: Pinterest's app_info and device_info objects, which the
// sandbox validates against the published schema (additionalProperties false, limits, enums).
TEST(SyncE2E, AppInfoAndDeviceInfoReachPinterestAsItsSchemaSays) {
    Workspace w;
    w.add_valid_orders(1, 3);
    w.sql("ALTER TABLE orders ADD COLUMN package TEXT; ALTER TABLE orders ADD COLUMN installed TEXT;"
          "ALTER TABLE orders ADD COLUMN width INTEGER; ALTER TABLE orders ADD COLUMN family TEXT;"
          "ALTER TABLE orders ADD COLUMN langs TEXT; ALTER TABLE orders ADD COLUMN battery INTEGER;"
          "UPDATE orders SET package = 'com.example.shop', installed = '2026-01-02 03:04:05', width = 1080,"
          " family = 'Android', langs = 'en,de', battery = 50 + rowid;");
    const std::string mapping =
        R"({"event_name": "event_type", "event_time": "created_at", "email": "email", "order_id": "order_id",
            "app_info.app_package_name": "package", "app_info.install_time": "installed",
            "app_info.app_store": {"value": "Google Play Store"}, "device_info.screen_width": "width",
            "device_info.os_family": "family", "device_info.languages": "langs",
            "device_info.battery_level": "battery", "device_info.form_factor": {"value": "Cellphone"}})";
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", mapping);
    CommandResult dry = w.synchost({"sync", "orders.json", "--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    const json::object event = json::parse(dry.out.substr(0, dry.out.find('\n'))).at("data").at(0).as_object();
    EXPECT_EQ(event.at("app_info"), json::parse(R"({"app_package_name": "com.example.shop",
        "app_store": "Google Play Store", "install_time": 1767323045})"));
    EXPECT_EQ(event.at("device_info"), json::parse(R"({"battery_level": 51, "form_factor": "cellphone",
        "languages": ["en", "de"], "os_family": "android", "screen_width": 1080})"));

    CommandResult real = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(real.exit_code, 0) << real.err;
    EXPECT_EQ(summary(real).at("delivered").as_int64(), 3);
    EXPECT_EQ(w.stat("events_processed"), 3) << "the sandbox refused a body";
}

TEST(SyncE2E, CheckReportsEachProblemDistinctly) {
    Workspace w({"--forbidden-account", "111"});
    w.add_orders(1, 3);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult ok = w.synchost({"check", "orders.json"});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

    auto bad_token = Command::run({SYNCHOST_EXE, "check", "orders.json", "--plugin-path", PLUGIN_DIR}, w.dir(),
                                  {{"E2E_TOKEN", "wrong-token"}});
    EXPECT_EQ(bad_token.exit_code, 3);
    EXPECT_NE(bad_token.out.find("rejected the access token"), std::string::npos) << bad_token.out;

    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, "");
    std::string def = read_text(w.dir() + "/orders.json");
    auto with_account = [&](const std::string &id, const std::string &extra) {
        std::string d = def;
        d.replace(d.find("549755885175"), 12, id);
        if (!extra.empty()) d.replace(d.find("\"calls_per_minute\""), 0, extra + ", ");
        std::ofstream(w.dir() + "/variant.json") << d;
        return w.synchost({"check", "variant.json"});
    };
    auto no_access = with_account("111", "");
    EXPECT_EQ(no_access.exit_code, 3);
    EXPECT_NE(no_access.out.find("no access to ad account 111"), std::string::npos) << no_access.out;
    auto unknown = with_account("222", "");
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.out.find("verify the Ad Account ID"), std::string::npos) << unknown.out;
    auto tag = with_account("549755885175", "\"conversion_tag_id\": \"777\"");
    EXPECT_EQ(tag.exit_code, 2);
    EXPECT_NE(tag.out.find("conversion tag 777 does not exist"), std::string::npos) << tag.out;
}

TEST(SyncE2E, LimitRetryRejectedFullResyncAndTestEvents) {
    Workspace w;
    w.add_orders(1, 200);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult limited = w.synchost({"sync", "orders.json", "--json", "--limit", "50"});
    EXPECT_EQ(summary(limited).at("sent").as_int64(), 50);
    CommandResult rest = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(rest).at("sent").as_int64(), 150);
    EXPECT_EQ(w.stat("distinct_event_ids"), 196);

    // Rejected rows stay put unless asked: --retry-rejected sends the 4 again (and they fail again).
    CommandResult retry = w.synchost({"sync", "orders.json", "--json", "--retry-rejected"});
    EXPECT_EQ(summary(retry).at("sent").as_int64(), 4);
    EXPECT_EQ(summary(retry).at("rejected").as_int64(), 4);

    // --full-resync needs confirmation; with --yes everything goes again with the same event ids.
    CommandResult refused = w.synchost({"sync", "orders.json", "--full-resync"});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
    CommandResult full = w.synchost({"sync", "orders.json", "--json", "--full-resync", "--yes"});
    EXPECT_EQ(summary(full).at("sent").as_int64(), 200);
    EXPECT_EQ(w.stat("distinct_event_ids"), 196);  // same ids: Pinterest counts each event once

    w.add_orders(201, 210);
    CommandResult test = w.synchost({"sync", "orders.json", "--json", "--test-events"});
    EXPECT_EQ(summary(test).at("sent").as_int64(), 10);
    EXPECT_EQ(w.stat("test_events"), 10);
    EXPECT_EQ(w.stat("distinct_event_ids"), 196);  // validated, not recorded
}

// A state written by an older synchost holds content hashes of another hash function: they cannot
// be compared, so its rejected rows count as changed and are tried once more, then settle again.
TEST(SyncE2E, RejectedRowsHashedByAnOlderVersionAreTriedOnceMore) {
    Workspace w;
    w.add_orders(1, 200);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult first = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(first).at("rejected").as_int64(), 4);

    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open(w.state_file("orders").c_str(), &db), SQLITE_OK);
    char *err = nullptr;
    // A state of version 1 has no row_hash key. The hashes are left as they are (they would match):
    // the missing key alone must make them count as changed.
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM meta WHERE key = 'row_hash'", nullptr, nullptr, &err),
              SQLITE_OK)
        << (err ? err : "");
    sqlite3_close(db);

    CommandResult again = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(again).at("sent").as_int64(), 4) << again.err;
    EXPECT_EQ(summary(again).at("rejected").as_int64(), 4);
    CommandResult settled = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(summary(settled).at("sent").as_int64(), 0) << settled.err;
    EXPECT_EQ(summary(settled).at("skipped").as_int64(), 4);  // the rejected rows; SQLite left the rest out
}

TEST(SyncE2E, CsvAndJsonlSources) {
    Workspace w;
    {
        std::ofstream csv(w.dir() + "/orders.csv");
        csv << "order_id,event_type,created_at,email,total\n";
        for (int i = 1; i <= 30; ++i)
            csv << "c" << i << ",checkout," << now_s() - 60 << ",\" Buyer" << i << "@Shop.example \"," << i << ".25\n";
        std::ofstream jl(w.dir() + "/orders.jsonl");
        for (int i = 1; i <= 20; ++i)
            jl << R"({"order_id": "j)" << i << R"(", "event_type": "lead", "created_at": )" << now_s() - 60
               << R"(, "email": "j)" << i << R"(@shop.example", "total": )" << i << "}\n";
    }
    for (const char *kind : {"csv", "jsonl"}) {
        std::ofstream f(w.dir() + "/" + kind + ".json");
        f << R"({"name": ")" << kind << R"(", "source": {"type": ")" << kind << R"(", "path": "orders.)" << kind
          << R"("}, "primary_key": "order_id", "mode": "insert", "destination": {"plugin": "pinterest_conversions", "config": {"ad_account_id": "549755885175"}},)"
          << R"( "credentials": {"token_env": "E2E_TOKEN"}, "mapping": )" << kOrderMapping << "}";
    }
    // The sandbox URL and CA come from the Workspace's generated definitions: reuse them.
    w.write_sync("base", R"("mode": "insert")", "SELECT 1", kOrderMapping);
    std::string base = read_text(w.dir() + "/base.json");
    const auto cfg_at = base.find("\"config\"");
    const std::string config = base.substr(cfg_at, base.find("}}", cfg_at) - cfg_at + 1);
    for (const char *kind : {"csv", "jsonl"}) {
        std::string d = read_text(w.dir() + "/" + kind + ".json");
        const auto at = d.find("\"config\"");
        d.replace(at, d.find("}}", at) - at + 1, config);
        std::ofstream(w.dir() + "/" + kind + ".json") << d;
        CommandResult r = w.synchost({"sync", std::string(kind) + ".json", "--json"});
        ASSERT_EQ(r.exit_code, 0) << kind << ": " << r.err;
    }
    EXPECT_EQ(w.stat("distinct_event_ids"), 50);
}

TEST(SyncE2E, InterruptFinishesTheBatchInFlightAndResumes) {
    Workspace w({"--latency-ms", "80"});
    w.add_valid_orders(1, 3000);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping,
                 ", \"max_in_flight\": 1");
    auto c = w.start_synchost({"sync", "orders.json", "--json"});
    // Interrupt once the first events reached the sandbox (the Ctrl-C handler is installed
    // before the first log line; instrumented builds take a while to get there).
    ASSERT_TRUE(c->wait_for_stderr("insert into pinterest_conversions", std::chrono::seconds(20)));
    ASSERT_TRUE(
        w.wait_for_sandbox([](const json::value &s) { return s.at("events_received").to_number<int64_t>() > 0; }));
    c->signal(SIGINT);
    CommandResult r = c->wait();
    EXPECT_EQ(r.exit_code, 130) << r.err;
    auto s = summary(r);
    EXPECT_GT(s.at("delivered").as_int64(), 0);
    EXPECT_LT(s.at("delivered").as_int64(), 3000);
    EXPECT_EQ(s.at("retry").as_int64(), 0);  // the batch in flight was finished, not abandoned
    CommandResult rest = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(rest.exit_code, 0);
    EXPECT_EQ(summary(rest).at("sent").as_int64(), 3000 - s.at("delivered").as_int64());
    EXPECT_EQ(w.stat("distinct_event_ids"), 3000);
    EXPECT_EQ(w.stat("duplicate_events"), 0);
}

TEST(SyncE2E, PostgresSourceAgainstARealServer) {
    const char *pg = std::getenv("SYNCHOST_TEST_PG");
    if (pg == nullptr || *pg == '\0') GTEST_SKIP() << "SYNCHOST_TEST_PG is not set (scripts/start-postgres.sh)";
    Workspace w;
    const std::string table = "e2e_orders_" + std::to_string(::getpid());
    auto psql = [&](const std::string &sql) {
        return Command::run({"/usr/bin/psql", pg, "-v", "ON_ERROR_STOP=1", "-qc", sql}, w.dir());
    };
    ASSERT_EQ(psql("CREATE TABLE " + table + "(order_id bigint PRIMARY KEY, event_type text, created_at bigint, "
                   "email text, total numeric(10,2)); INSERT INTO " + table +
                   " SELECT g, 'checkout', extract(epoch from now())::bigint - 60, 'pg' || g || '@shop.example', "
                   "g * 1.5 FROM generate_series(1, 1500) g;")
                  .exit_code,
              0);
    w.write_sync("pg", R"("mode": "insert")", "SELECT 1", kOrderMapping);
    std::string d = read_text(w.dir() + "/pg.json");
    const auto at = d.find("\"source\"");
    d.replace(at, d.find("},", at) - at + 1,
              "\"source\": {\"type\": \"postgres\", \"connection_env\": \"E2E_PG\", \"query\": \"SELECT * FROM " + table + "\"}");
    std::ofstream(w.dir() + "/pg.json") << d;
    CommandResult r = Command::run({SYNCHOST_EXE, "sync", "pg.json", "--json", "--plugin-path", PLUGIN_DIR}, w.dir(),
                                   {{"E2E_TOKEN", kToken}, {"E2E_PG", pg}});
    psql("DROP TABLE " + table);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(summary(r).at("delivered").as_int64(), 1500);
    EXPECT_EQ(w.stat("distinct_event_ids"), 1500);
}

TEST(SyncE2E, HostileSetupsFailCleanlyNamingTheProblem) {
    Workspace w;
    w.add_orders(1, 50);
    // A query without the primary-key column.
    w.write_sync("nokey", R"("mode": "insert")", "SELECT event_type, created_at, email, total FROM orders",
                 kOrderMapping);
    CommandResult r = w.synchost({"sync", "nokey.json"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("primary_key column \"order_id\" is not in the query result"), std::string::npos) << r.err;
    // A state directory that cannot be created (its parent is a file).
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    std::ofstream(w.dir() + "/not-a-dir") << "x";
    CommandResult bad_state = w.synchost({"sync", "orders.json", "--state-dir", w.dir() + "/not-a-dir/state"});
    EXPECT_EQ(bad_state.exit_code, 2);
    EXPECT_NE(bad_state.err.find("state directory"), std::string::npos) << bad_state.err;
    EXPECT_EQ(w.stat("events_received"), 0);
    // A missing source file.
    std::ofstream(w.dir() + "/csv.json") << R"({"name": "csv", "source": {"type": "csv", "path": "gone.csv"}, )"
                                         << R"("primary_key": "order_id", "mode": "insert", "destination": )"
                                         << R"({"plugin": "pinterest_conversions", "config": {"ad_account_id": "1"}}, )"
                                         << R"("mapping": {"event_name": "e", "email": "m"}})";
    CommandResult missing = w.synchost({"sync", "csv.json"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("gone.csv"), std::string::npos) << missing.err;
}

TEST(SyncE2E, ASourceFileDeletedMidRunIsReadToTheEnd) {
    Workspace w({"--latency-ms", "40"});
    {
        std::ofstream csv(w.dir() + "/orders.csv");
        csv << "order_id,event_type,created_at,email,total\n";
        for (int i = 1; i <= 3000; ++i) csv << "c" << i << ",checkout," << now_s() - 60 << ",b" << i << "@shop.example,1\n";
    }
    w.write_sync("base", R"("mode": "insert", "batch_size": 100)", "SELECT 1", kOrderMapping, ", \"max_in_flight\": 1");
    std::string d = read_text(w.dir() + "/base.json");
    const auto at = d.find("\"source\"");
    d.replace(at, d.find("},", at) - at + 1, R"("source": {"type": "csv", "path": "orders.csv"})");
    std::ofstream(w.dir() + "/csv.json") << d;
    auto c = w.start_synchost({"sync", "csv.json", "--json"});
    // Once events arrive, the file is open: delete it (an open file stays readable on POSIX).
    ASSERT_TRUE(
        w.wait_for_sandbox([](const json::value &s) { return s.at("events_received").to_number<int64_t>() > 0; }));
    std::filesystem::remove(w.dir() + "/orders.csv");
    CommandResult r = c->wait();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(w.stat("distinct_event_ids"), 3000);
}
