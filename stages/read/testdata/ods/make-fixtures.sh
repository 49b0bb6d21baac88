#!/bin/sh
# Makes prospects.ods from prospects.fods with LibreOffice, as a user saving in Calc would: the
# .ods is what LibreOffice itself writes (its number formats applied to the cells' text, a blank
# tail of repeated rows). Run by hand when the .fods changes; the tests read the .ods only.
set -e
cd "$(dirname "$0")"
soffice --headless --convert-to ods --outdir . prospects.fods
