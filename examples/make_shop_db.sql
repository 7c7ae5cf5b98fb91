-- The example shop database for the README demo: N orders (default 100,000) with the messy data
-- real shops have: mixed-case emails with spaces, phones in national and international forms,
-- event names in different spellings, a few invalid emails and stale events (which the plugin
-- rejects locally, with reasons), and customers for the audience sync.
-- Usage: sqlite3 shop.db -cmd ".parameter set @n 100000" < make_shop_db.sql
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS customers;
CREATE TABLE orders(
  order_id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,  -- Unix seconds
  email TEXT,
  phone TEXT,
  total REAL,
  currency TEXT,
  skus TEXT,                    -- JSON array of product ids
  client_ip TEXT,
  user_agent TEXT
);
CREATE TABLE customers(
  customer_id INTEGER PRIMARY KEY,
  email TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  city TEXT,
  zip TEXT,
  country TEXT,
  newsletter INTEGER NOT NULL
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < coalesce(@n, 100000))
INSERT INTO orders
SELECT
  printf('ord-%07d', i),
  CASE i % 10 WHEN 0 THEN 'add_to_cart' WHEN 1 THEN 'Add To Cart' WHEN 2 THEN 'page_visit' ELSE 'checkout' END,
  CAST(strftime('%s', 'now') AS INTEGER) - 60 - (i * 7) % 500000
    - CASE WHEN i % 1499 = 0 THEN 9 * 86400 ELSE 0 END,          -- a few stale events
  CASE
    WHEN i % 997 = 0 THEN 'customer-' || i || '-at-example.com'    -- not an email
    WHEN i % 3 = 0 THEN printf('  User.%d@Example.COM ', i % 40000)
    WHEN i % 3 = 1 THEN printf('user%d@example.org', i % 40000)
    ELSE printf('SHOPPER%d@Mail.Example.net', i % 40000)
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
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < coalesce(@n, 100000) / 10)
INSERT INTO customers
SELECT
  i,
  printf(' Customer%d@Example.com', i),
  CASE i % 3 WHEN 0 THEN 'Ada' WHEN 1 THEN ' José ' ELSE 'GRACE' END,
  CASE i % 3 WHEN 0 THEN 'Lovelace' WHEN 1 THEN 'Núñez' ELSE 'Hopper' END,
  CASE i % 3 WHEN 0 THEN 'Menlo Park' WHEN 1 THEN 'São Paulo' ELSE 'New York' END,
  CASE i % 3 WHEN 0 THEN '94025-1234' WHEN 1 THEN '01310-100' ELSE '10001' END,
  CASE i % 3 WHEN 0 THEN 'United States' WHEN 1 THEN 'BR' ELSE 'usa' END,
  CASE WHEN i % 4 = 0 THEN 0 ELSE 1 END
FROM n;
