-- Kafka import requests (intake/requests): the import each request message is bound to, so
-- that a request delivered again — after a crash between queueing its import and committing its
-- offset, or resent by its producer with the same request_id — never queues a second import.
CREATE TABLE kafka_requests (
    -- 'id:<account id>:<request_id>' when the message carries a request_id, else
    -- 'msg:<topic>/<partition>/<offset>/<sha256 of the message value>' (the hash keeps a reused
    -- offset, after a topic was recreated, from passing for an earlier message).
    request_key text PRIMARY KEY,
    -- Allocated from the imports id sequence when the request is first seen; the import is
    -- created with this id, so imports' primary key makes queueing happen once.
    import_id   bigint NOT NULL,
    -- Where the request was first read from.
    topic       text NOT NULL,
    partition   int NOT NULL,
    "offset"    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
