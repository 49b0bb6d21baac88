#!/usr/bin/env node
// make-fixtures.js writes the legacy XLS (BIFF8) fixtures of stages/read/xls_test.go with SheetJS,
// real spreadsheet software, from the data below. The .xls files it writes are committed; run it
// again only to change them, then update the expectations in xls_test.go:
//
//   npm install --prefix /tmp/sheetjs xlsx@0.18.5
//   NODE_PATH=/tmp/sheetjs/node_modules node stages/read/testdata/xls/make-fixtures.js
//
// It writes next to itself:
//   prospects.xls  sheet "Prospects": a header, strings (one not Latin-1), a phone number and a
//                  decimal stored as numbers, a float with an artifact (0.1+0.2), a date cell with a
//                  date format, a date-time, booleans, a blank row, a row wider than the header,
//                  a negative number; sheet "Archive": another list.
//   header-row2.xls  row 1 blank, the header on row 2, a blank row at the end of the data.
//   many.xls       40 rows of distinct strings in a shared-string table that spreads over
//                  CONTINUE records (SheetJS cuts it between strings; xls_test.go builds tables cut
//                  inside strings itself).
'use strict';

const path = require('path');
const XLSX = require('xlsx');

const out = (name) => path.join(__dirname, name);

// Dates are built in UTC so that the serial numbers do not depend on the machine's time zone.
const utc = (y, m, d, hh = 0, mm = 0) => new Date(Date.UTC(y, m - 1, d, hh, mm));

// writeBook writes sheets, a list of [name, worksheet], as a BIFF8 workbook. With sst, strings
// go to the shared-string table (LABELSST cells, as Excel writes them) instead of LABEL cells.
function writeBook(sheets, name, sst = false) {
  const wb = XLSX.utils.book_new();
  for (const [sheetName, ws] of sheets) XLSX.utils.book_append_sheet(wb, ws, sheetName);
  XLSX.writeFile(wb, out(name), { bookType: 'biff8', cellDates: true, bookSST: sst });
}

// Sets the number format of a cell.
function fmt(ws, ref, z) {
  ws[ref].z = z;
}

// prospects.xls
{
  const rows = [
    ['First Name', 'Last Name', 'Email', 'Phone', 'Score', 'Signed Up', 'Active', 'Notes'],
    ['Ada', 'Lovelace', 'ada@example.com', 15551234567, 42.5, utc(2024, 1, 31), true, 'first'],
    ['Zoë', 'Łukasiewicz', 'zoe@example.com', 4930123456, 0.1 + 0.2, utc(1999, 12, 31), false, '日本語'],
    [],
    ['Grace', 'Hopper', 'grace@example.com', -7, 1e21, utc(2024, 2, 29, 13, 45), true, ''],
    ['Alan', 'Turing', 'alan@example.com', 12, 3, 45292, false, 'x', 'extra'],
  ];
  const ws = XLSX.utils.aoa_to_sheet(rows, { cellDates: true });
  fmt(ws, 'F2', 'yyyy-mm-dd');
  fmt(ws, 'F3', 'm/d/yy');
  fmt(ws, 'F5', 'yyyy-mm-dd hh:mm');
  // F6 holds the serial 45292 as a plain number with a date format: still a date.
  fmt(ws, 'F6', 'd-mmm-yyyy');
  fmt(ws, 'E2', '0.00');

  const archive = XLSX.utils.aoa_to_sheet([
    ['Email', 'Company'],
    ['old@example.com', 'Acme'],
    ['older@example.com', 'Initech'],
  ]);
  writeBook([['Prospects', ws], ['Archive', archive]], 'prospects.xls');
}

// header-row2.xls
{
  const ws = XLSX.utils.aoa_to_sheet([
    [],
    ['Email', 'Name', ''],
    ['a@example.com', 'A'],
    ['b@example.com', 'B'],
    [],
  ]);
  writeBook([['Sheet1', ws]], 'header-row2.xls');
}

// many.xls
{
  const rows = [['Email', 'Note']];
  for (let i = 1; i <= 40; i++) {
    // Every tenth note is not Latin-1, so that some strings are stored as UTF-16.
    const note = i % 10 === 0 ? `nöte ${i} — ${'ж'.repeat(i % 7)}` : `note number ${i} ${'x'.repeat(90 + i % 13)}`;
    rows.push([`user${i}@example.com`, note]);
  }
  writeBook([['Sheet1', XLSX.utils.aoa_to_sheet(rows)]], 'many.xls', true);
}
