#!/usr/bin/env node
// make-fixtures.js writes one prospect list as CSV, XLSX and XLS with SheetJS (real spreadsheet
// software), for importer/formats_test.go: the three must import with the same outcomes; and
// formatted.xlsx and formatted.xls, whose numbers have percent and currency formats, each
// number twice (for a number field and for a text field). The files it writes are committed;
// run it again only to change them:
//
//   npm install --prefix /tmp/sheetjs xlsx@0.18.5
//   NODE_PATH=/tmp/sheetjs/node_modules node importer/testdata/formats/make-fixtures.js
'use strict';

const path = require('path');
const XLSX = require('xlsx');

const date = (y, m, d) => new Date(Date.UTC(y, m - 1, d));
const rows = [
  ['Email', 'First Name', 'Last Name', 'Phone', 'Company', 'Email Opt In', 'Signed Up', 'Score'],
  ['ann@acme.com', 'Ann', 'Able', 15551234567, 'Acme Inc', true, date(2024, 1, 31), 42.5],
  ['ANN@ACME.COM', 'Ann', 'Able-Smith'],
  ['bad-email', 'Bob', 'Brown', 4930123456],
  [],
  ['', 'Cy', 'Cee', 4930123456],
  ['dee@beta.io', 'Dee', 'Dunn', '', 'Beta LLC', false, date(1999, 12, 31), 7],
  ['ann@acme.com', 'Ann', 'Able-Smith'],
];
// Four-digit years: SheetJS's CSV export writes a date as its format shows it.
const ws = XLSX.utils.aoa_to_sheet(rows, { cellDates: true, dateNF: 'yyyy-mm-dd' });
ws.G7.z = 'm/d/yyyy';
delete ws.G7.w;
const wb = XLSX.utils.book_new();
XLSX.utils.book_append_sheet(wb, ws, 'Prospects');
for (const [ext, bookType] of [['csv', 'csv'], ['xlsx', 'xlsx'], ['xls', 'biff8']]) {
  XLSX.writeFile(wb, path.join(__dirname, 'prospects.' + ext), { bookType, cellDates: true });
}

// Formatted numbers: Share in 0.00%, Revenue in "$"#,##0.00, and the same again.
const formatted = XLSX.utils.aoa_to_sheet([
  ['Email', 'Share', 'Revenue', 'Share Shown', 'Revenue Shown'],
  ['ann@acme.com', 0.25, 1200, 0.25, 1200],
  ['dee@beta.io', 0.125, -1234.5, 0.125, -1234.5],
]);
for (const row of [2, 3]) {
  for (const [col, z] of [['B', '0.00%'], ['C', '"$"#,##0.00'], ['D', '0.00%'], ['E', '"$"#,##0.00']]) {
    formatted[col + row].z = z;
  }
}
const fwb = XLSX.utils.book_new();
XLSX.utils.book_append_sheet(fwb, formatted, 'Prospects');
for (const [ext, bookType] of [['xlsx', 'xlsx'], ['xls', 'biff8']]) {
  XLSX.writeFile(fwb, path.join(__dirname, 'formatted.' + ext), { bookType });
}
