// Package postal holds the postal address fields that the kinds with an address share
// (prospects, organizations), with their aliases, so that both auto-map the same headers.
package postal

import "github.com/leadpipe/leadpipe/crm"

// Fields are the address fields, in the order of their tables' columns: street, city, state,
// postal_code, country.
func Fields() []crm.Field {
	return []crm.Field{
		{Key: "street", Label: "Street", Type: crm.Text, MaxLength: 255, Aliases: []string{"Address", "Street Address", "Address 1", "Address Line 1"}, Example: "1 Market Street"},
		{Key: "city", Label: "City", Type: crm.Text, MaxLength: 100, Aliases: []string{"Town"}, Example: "San Francisco"},
		{Key: "state", Label: "State", Type: crm.Text, MaxLength: 100, Aliases: []string{"Province", "Region", "State/Province"}, Example: "CA"},
		{Key: "postal_code", Label: "Postal Code", Type: crm.Text, MaxLength: 20, Aliases: []string{"Zip", "Zip Code", "Postcode", "Post Code", "ZIP/Postal Code"}, Example: "94105"},
		{Key: "country", Label: "Country", Type: crm.Text, MaxLength: 100, Example: "United States"},
	}
}
