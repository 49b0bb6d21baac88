package store

// MigrateUpTo is migrateUpTo, for the tests of a migration: they write data as it was before
// it, then migrate.
var MigrateUpTo = migrateUpTo

// MinRunRows is minRunRows: the tests check which batches' rows make a run.
const MinRunRows = minRunRows

// MinRunRecords is minRunRecords, for the tests to set: a run of updated rows names that many
// records at least.
var MinRunRecords = &minRunRecords
