-- A sink's watermark: every import with an id up to import_id has finished and the sink has
-- delivered all of it, so that finding what is left to deliver reads only the imports past it
-- (store.AdvanceSinkWatermark), not every import there ever was.
CREATE TABLE sink_watermarks (
    sink      text PRIMARY KEY,
    import_id bigint NOT NULL
);
