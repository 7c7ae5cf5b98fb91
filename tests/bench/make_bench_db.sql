-- Benchmark database for scripts/bench-sync.sh and scripts/bench-budget.sh: N orders shaped like
-- examples/make_shop_db.sql (messy emails and phones, event names in several spellings, JSON SKU
-- lists, IP and user agent) but with every row valid, so every row is accepted and sent: no
-- invalid emails, no stale events (the oldest is about 5.8 days old, inside the 7-day window).
-- Usage: sqlite3 bench.db -cmd ".parameter set @n 1000000" < tests/bench/make_bench_db.sql
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
DROP TABLE IF EXISTS orders;
CREATE TABLE orders(
  order_id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,  -- Unix seconds
  email TEXT NOT NULL,
  phone TEXT,
  total REAL,
  currency TEXT,
  skus TEXT,                    -- JSON array of product ids
  client_ip TEXT,
  user_agent TEXT
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < coalesce(@n, 100000))
INSERT INTO orders
SELECT
  printf('ord-%08d', i),
  CASE i % 10 WHEN 0 THEN 'add_to_cart' WHEN 1 THEN 'Add To Cart' WHEN 2 THEN 'page_visit' ELSE 'checkout' END,
  CAST(strftime('%s', 'now') AS INTEGER) - 60 - (i * 7) % 500000,
  CASE i % 3
    WHEN 0 THEN printf('  User.%d@Example.COM ', i)
    WHEN 1 THEN printf('user%d@example.org', i)
    ELSE printf('SHOPPER%d@Mail.Example.net', i)
  END,
  CASE i % 5
    WHEN 0 THEN printf('+1 (415) 555-%04d', i % 10000)
    WHEN 1 THEN printf('00 44 20 7946 %04d', i % 10000)
    WHEN 2 THEN printf('415.555.%04d', i % 10000)
    WHEN 3 THEN NULL
    ELSE printf('(212) 555 %04d', i % 10000)
  END,
  round(5 + (i * 37 % 50000) / 100.0, 2),
  CASE i % 4 WHEN 0 THEN 'usd' WHEN 1 THEN 'USD' WHEN 2 THEN 'EUR' ELSE 'gbp' END,
  printf('["sku-%d", "sku-%d"]', i % 500, (i * 7) % 500),
  printf('203.0.113.%d', i % 250),
  'Mozilla/5.0 (X11; Linux x86_64) ExampleShop/1.0'
FROM n;
