package prospects

import (
	"slices"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/postal"
)

// standardFields are the prospect fields every account has, in the order of the prospects
// table's columns. full_name is not stored: with the split_full_name option its value fills
// first and last name.
func standardFields() []crm.Field {
	return slices.Concat([]crm.Field{
		{Key: "email", Label: "Email", Type: crm.Email, MaxLength: 254, Aliases: []string{"E-mail", "E-mail Address", "Email Address", "Mail", "Business Email", "Work Email"}},
		{Key: "first_name", Label: "First Name", Type: crm.Text, MaxLength: 100, Aliases: []string{"First", "Firstname", "Given Name", "Forename"}, Example: "Jane"},
		{Key: "last_name", Label: "Last Name", Type: crm.Text, MaxLength: 100, Aliases: []string{"Last", "Lastname", "Surname", "Family Name"}, Example: "Doe"},
		{Key: "title", Label: "Title", Type: crm.Text, MaxLength: 128, Aliases: []string{"Job Title", "Position", "Role"}, Example: "Head of Sales"},
		{Key: "phone", Label: "Phone", Type: crm.Phone, MaxLength: 40, Aliases: []string{"Phone Number", "Telephone", "Tel", "Work Phone", "Business Phone"}},
		{Key: "mobile", Label: "Mobile", Type: crm.Phone, MaxLength: 40, Aliases: []string{"Mobile Phone", "Mobile Number", "Cell", "Cell Phone"}},
		{Key: "website", Label: "Website", Type: crm.Text, MaxLength: 255, Aliases: []string{"Web Site", "URL", "Web", "Company Website"}, Example: "https://www.example.com"},
	}, postal.Fields(), []crm.Field{
		{Key: "lead_source", Label: "Lead Source", Type: crm.Text, MaxLength: 100, Aliases: []string{"Source"}, Example: "Trade Show"},
		{Key: "lead_owner", Label: "Lead Owner", Type: crm.User, Aliases: []string{"Owner", "Prospect Owner", "Assigned To"}},
		{Key: "email_opt_in", Label: "Email Opt In", Type: crm.Boolean, Aliases: []string{"Opt In", "Email Opt-In", "Opted In", "Subscribed"}},
		{Key: "organization", Label: "Organization", Type: crm.Organization, MaxLength: 255, Aliases: []string{"Company", "Company Name", "Organisation", "Organization Name", "Account", "Account Name", "Employer"}},
		{Key: "full_name", Label: "Full Name", Type: crm.Text, MaxLength: 201, Aliases: []string{"Name", "Contact Name", "Contact"}},
	})
}
