-- The kafka_requests_retention setting deletes the Kafka request reservations (0005) first seen
-- longer ago than the retention. This index lets each pass find them without reading the table.
CREATE INDEX kafka_requests_created_at ON kafka_requests (created_at);
