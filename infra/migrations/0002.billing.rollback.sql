DROP TABLE IF EXISTS offer_preferences;
DROP TABLE IF EXISTS offers;
DROP TABLE IF EXISTS entitlements;
DROP TABLE IF EXISTS subscriptions;
DROP TABLE IF EXISTS billing_customers;
