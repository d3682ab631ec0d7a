-- Finding a caller's calls by their number ("(415) 555-0188" typed in the search box).
CREATE INDEX calls_org_customer ON calls(org_id, customer_number);
