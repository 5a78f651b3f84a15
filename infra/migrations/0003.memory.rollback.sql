DROP TABLE IF EXISTS memory_summaries;
DROP TABLE IF EXISTS review_items;
DROP TABLE IF EXISTS skill_cards;
DROP TABLE IF EXISTS memories;
DROP TABLE IF EXISTS memory_embedding;
